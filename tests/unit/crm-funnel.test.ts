// The funnel rules (collector/src/crm/funnel/): the seed's examples, grouping,
// each marker, vendor defaults for unmapped pipelines, and misconfigurations.
import { describe, expect, it } from 'vitest';
import { loadCrmConfig } from '../../collector/src/crm/config/schema.js';
import { amoOutcome, mapStatus, zohoOutcome } from '../../collector/src/crm/funnel/mapping.js';
import { advance, type FunnelState } from '../../collector/src/crm/funnel/progress.js';

const SECRET = 's'.repeat(24);
const config = loadCrmConfig({
  funnel: [
    { stage: '1 Request' },
    { stage: '2 Qualified' },
    { stage: '3 Proposal' },
    { stage: '4 Contract' },
    { stage: '5 Invoice' },
    { stage: 'Won', marker: 'won' },
    { stage: 'Lost', marker: 'lost' },
    { stage: 'Returned', marker: 'returned' },
    { stage: 'Paused', marker: 'paused' },
  ],
  sources: {
    amo: {
      kind: 'amocrm',
      secret: SECRET,
      account: { id: '1' },
      pipelines: {
        '100': { '11': '1 Request', '12': '2 Qualified', '13': '2 Qualified', '14': '3 Proposal', '15': '4 Contract', '16': '5 Invoice', '142': 'Won', '143': 'Lost', '20': 'Returned', '21': 'Paused' },
      },
    },
  },
});
const funnel = config.funnel;
const amo = config.raw.sources.amo!;

/** Moves a deal through statuses of pipeline 100; returns the state after each. */
function walk(statuses: string[], pipeline = '100'): FunnelState[] {
  const out: FunnelState[] = [];
  let prev: FunnelState | null = null;
  for (const s of statuses) {
    prev = advance(funnel, prev, mapStatus(funnel, amo, pipeline, s, amoOutcome(s)));
    out.push(prev);
  }
  return out;
}
const last = (xs: FunnelState[]) => xs[xs.length - 1]!;

describe('funnel semantics', () => {
  const cases: { name: string; statuses: string[]; pipeline?: string; expect: Partial<FunnelState> }[] = [
    {
      name: 'a deal won from stage 2 counts stages 3-5 as passed (seed)',
      statuses: ['12', '142'],
      expect: { stage: 'Won', stageIndex: 6, outcome: 'won', stagesPassed: ['1 Request', '2 Qualified', '3 Proposal', '4 Contract', '5 Invoice', 'Won'], lostFromStage: '' },
    },
    {
      name: 'a deal lost from stage 2 does not get stages 3-5 (seed)',
      statuses: ['12', '143'],
      expect: { stage: 'Lost', outcome: 'lost', stagesPassed: ['2 Qualified', 'Lost'], lostFromStage: '2 Qualified' },
    },
    {
      name: 'a lost deal does not get earlier stages it skipped either',
      statuses: ['15', '143'],
      expect: { stagesPassed: ['4 Contract', 'Lost'], lostFromStage: '4 Contract' },
    },
    {
      name: 'two statuses grouped into one stage are one stage',
      statuses: ['11', '12', '13'],
      expect: { stage: '2 Qualified', stageIndex: 2, outcome: 'open', stagesPassed: ['1 Request', '2 Qualified'] },
    },
    {
      name: 'an open deal that skips stages does not back-fill them',
      statuses: ['11', '15'],
      expect: { stage: '4 Contract', outcome: 'open', stagesPassed: ['1 Request', '4 Contract'] },
    },
    {
      name: 'stages passed stay when a deal moves back',
      statuses: ['11', '14', '12'],
      expect: { stage: '2 Qualified', stagesPassed: ['1 Request', '2 Qualified', '3 Proposal'] },
    },
    {
      name: 'returned after won keeps the stages and reverses revenue (outcome returned)',
      statuses: ['12', '142', '20'],
      expect: { stage: 'Returned', outcome: 'returned', stagesPassed: ['1 Request', '2 Qualified', '3 Proposal', '4 Contract', '5 Invoice', 'Won', 'Returned'] },
    },
    {
      name: 'paused is neither revenue nor a refusal and back-fills nothing',
      statuses: ['13', '21'],
      expect: { stage: 'Paused', outcome: 'paused', stagesPassed: ['2 Qualified', 'Paused'], lostFromStage: '' },
    },
    {
      name: 'reopened after a loss the deal is open again, its history kept',
      statuses: ['12', '143', '14'],
      expect: { stage: '3 Proposal', outcome: 'open', stagesPassed: ['2 Qualified', '3 Proposal', 'Lost'], lostFromStage: '' },
    },
    {
      name: 'an unmapped pipeline: 142 lands on the Won stage with the back-fill',
      statuses: ['555', '142'],
      pipeline: '999',
      expect: { stage: 'Won', outcome: 'won', stagesPassed: ['1 Request', '2 Qualified', '3 Proposal', '4 Contract', '5 Invoice', 'Won'] },
    },
    {
      name: 'an unmapped pipeline: 143 lands on Lost, lost from no known stage',
      statuses: ['555', '143'],
      pipeline: '999',
      expect: { stage: 'Lost', outcome: 'lost', stagesPassed: ['Lost'], lostFromStage: '' },
    },
    {
      name: 'an unmapped open status is outside the funnel',
      statuses: ['555'],
      pipeline: '999',
      expect: { stage: '', stageIndex: -1, outcome: 'open', stagesPassed: [] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(last(walk(c.statuses, c.pipeline))).toMatchObject(c.expect);
    });
  }

  it('a deal never seen in a stage is lost from the stage the CRM says it left (old_status_id)', () => {
    const cameFrom = mapStatus(funnel, amo, '100', '14', 'open').stage;
    expect(advance(funnel, null, mapStatus(funnel, amo, '100', '143', 'lost'), cameFrom)).toMatchObject({
      outcome: 'lost',
      lostFromStage: '3 Proposal',
      stagesPassed: ['3 Proposal', 'Lost'],
    });
    // A deal seen in a stage is lost from that stage: the CRM's word only fills what Throughline did not see.
    const seen = walk(['12'])[0]!;
    expect(advance(funnel, seen, mapStatus(funnel, amo, '100', '143', 'lost'), cameFrom)).toMatchObject({ lostFromStage: '2 Qualified', stagesPassed: ['2 Qualified', 'Lost'] });
  });

  it('a second loss keeps the stage the deal was first lost from', () => {
    const states = walk(['14', '143', '143']);
    expect(last(states).lostFromStage).toBe('3 Proposal');
  });

  it('a won deal in a funnel without a Won stage is still won and back-fills every plain stage', () => {
    const bare = loadCrmConfig({ funnel: [{ stage: 'A' }, { stage: 'B' }], sources: {} });
    const s = advance(bare.funnel, null, { stage: null, vendorOutcome: 'won' });
    expect(s).toMatchObject({ stage: '', outcome: 'won', stagesPassed: ['A', 'B'] });
  });

  it('the `*` pipeline maps statuses of every pipeline not listed', () => {
    const c = loadCrmConfig({
      funnel: [{ stage: 'Lead' }, { stage: 'Paid', marker: 'won' }],
      sources: { shop: { kind: 'import', secret: SECRET, pipelines: { '*': { new: 'Lead', paid: 'Paid' } } } },
    });
    expect(mapStatus(c.funnel, c.raw.sources.shop!, 'any', 'paid', 'open').stage?.name).toBe('Paid');
  });

  it('reads the vendors’ own won / lost', () => {
    expect([amoOutcome('142'), amoOutcome('143'), amoOutcome('20067736')]).toEqual(['won', 'lost', 'open']);
    expect([zohoOutcome('Closed Won'), zohoOutcome('Closed Lost'), zohoOutcome('Open'), zohoOutcome(undefined)]).toEqual(['won', 'lost', 'open', 'open']);
  });
});

describe('funnel misconfigurations', () => {
  const bad: { name: string; config: unknown; message: RegExp }[] = [
    {
      name: 'a marker on two stages',
      config: { funnel: [{ stage: 'Paid', marker: 'won' }, { stage: 'Closed', marker: 'won' }] },
      message: /funnel\.1: marker "won" is already on stage "Paid"; each marker may be on one stage only/,
    },
    { name: 'an unknown marker', config: { funnel: [{ stage: 'X', marker: 'done' }] }, message: /funnel\.0\.marker/ },
    { name: 'a stage named twice', config: { funnel: [{ stage: 'X' }, { stage: 'X' }] }, message: /stage "X" appears twice/ },
    {
      name: 'a status mapped to a stage that does not exist',
      config: { funnel: [{ stage: 'A' }], sources: { amo: { kind: 'amocrm', secret: SECRET, account: { id: '1' }, pipelines: { '9': { '142': 'Paid' } } } } },
      message: /sources\.amo\.pipelines\.9\.142: no stage "Paid" in the funnel/,
    },
    {
      name: 'an amoCRM source without its account',
      config: { sources: { amo: { kind: 'amocrm', secret: SECRET, account: {} } } },
      message: /sources\.amo\.account: give the account id, the subdomain or both/,
    },
    { name: 'a short secret', config: { sources: { x: { kind: 'import', secret: 'short' } } }, message: /sources\.x\.secret: at least 16/ },
    { name: 'an unknown key', config: { funnel: [], stages: [] }, message: /stages/ },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => {
      expect(() => loadCrmConfig(b.config)).toThrow(b.message);
    });
  }
});
