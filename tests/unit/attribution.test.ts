import { describe, expect, it } from 'vitest';
import { creditsSql, periodWhere } from '../../collector/src/attribution/credits-sql.js';
import { resolveConversions, type DealIds } from '../../collector/src/attribution/identity.js';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { UnionFind } from '../../collector/src/attribution/union-find.js';
import { parseCostsCsv, parseCostsJson, toMinor } from '../../collector/src/costs/parse.js';
import { formatMinor, resolutionHeader, resolutionNote } from '../../collector/src/reports/format.js';
import { parseReportOptions } from '../../collector/src/reports/options.js';

const deal = (over: Partial<DealIds>): DealIds => {
  const d = { source: 'amo', deal_id: '1', created: 1_773_000_000, contact_ids: [], visitor_id: '', ga_cid: '', ym_uid: '', email_hashes: [], phone_hashes: [], ...over };
  return { conv_key: `deal:${d.source}:${d.deal_id}`, ...d };
};

describe('union-find', () => {
  it('merges chains into one component and keeps others apart', () => {
    const uf = new UnionFind();
    const [a, b, c, d] = [uf.id('visitor', 'A'), uf.id('email', 'A'), uf.id('phone', 'c'), uf.id('deal', 'd')];
    uf.union(a, b);
    uf.union(c, d);
    uf.union(b, c);
    const e = uf.id('visitor', 'E');
    expect(uf.find(a)).toBe(uf.find(d));
    expect(uf.find(e)).not.toBe(uf.find(a));
    expect(uf.id('visitor', 'A')).toBe(a); // same kind and value, same id
    expect(uf.count).toBe(5);
  });
});

describe('identity resolution', () => {
  it('reaches visitors through e-mail, phone, GA and Metrika ids, several hops deep', () => {
    const out = resolveConversions({
      deals: [
        deal({ deal_id: '1', email_hashes: ['e1'] }),
        deal({ deal_id: '2', phone_hashes: ['p1'] }),
        deal({ deal_id: '3', ga_cid: 'g1', ym_uid: 'y1' }),
        deal({ deal_id: '4' }),
        deal({ source: 'zoho', deal_id: '5', contact_ids: ['7'] }),
      ],
      links: [
        { kind_a: 'visitor', id_a: 'aaaaaa', kind_b: 'email', id_b: 'e1' },
        { kind_a: 'phone', id_a: 'p1', kind_b: 'contact', id_b: 'amo:9' },
        { kind_a: 'contact', id_a: 'amo:9', kind_b: 'visitor', id_b: 'BBBBBB' },
        { kind_a: 'contact', id_a: 'zoho:7', kind_b: 'visitor', id_b: 'DDDDDD' }, // a bare contact id is the deal's source's
      ],
      hitIds: [
        { visitor_id: 'CCCCC1', ga_cid: 'g1', ym_uid: '' },
        { visitor_id: 'CCCCC2', ga_cid: '', ym_uid: 'y1' },
        { visitor_id: 'CCCCC3', ga_cid: '', ym_uid: 'y1' },
      ],
      leads: [],
    });
    const by = Object.fromEntries(out.map((c) => [c.conv_key, c]));
    expect(by['deal:amo:1']!.visitor_ids).toEqual(['AAAAAA']);
    expect(by['deal:amo:2']!.visitor_ids).toEqual(['BBBBBB']);
    expect(by['deal:amo:3']!.visitor_ids).toEqual(['CCCCC1', 'CCCCC2', 'CCCCC3']);
    expect(by['deal:amo:4']!.visitor_ids).toEqual([]); // unattributed, still a conversion
    expect(by['deal:zoho:5']!.visitor_ids).toEqual(['DDDDDD']);
    expect(out.every((c) => c.conv_kind === 'deal' && c.conv_ts === 1_773_000_000)).toBe(true);
  });

  it('reaches a deal named by a link as <source>:<deal id>', () => {
    const out = resolveConversions({
      deals: [deal({ source: 'zoho', deal_id: '9' })],
      links: [{ kind_a: 'deal', id_a: 'zoho:9', kind_b: 'visitor', id_b: 'EEEEEE' }],
      hitIds: [],
      leads: [],
    });
    expect(out.map((c) => [c.conv_key, c.visitor_ids])).toEqual([['deal:zoho:9', ['EEEEEE']]]);
  });

  it('counts a form lead on its own only when its person has no deal', () => {
    const out = resolveConversions({
      deals: [deal({ deal_id: '1', visitor_id: 'AAAAAA' })],
      links: [{ kind_a: 'visitor', id_a: 'AAAAAA', kind_b: 'phone', id_b: 'p' }, { kind_a: 'visitor', id_a: 'ZZZZZZ', kind_b: 'phone', id_b: 'p' }],
      hitIds: [],
      leads: [{ visitor_id: 'ZZZZZZ', ts: 5 }, { visitor_id: 'FFFFFF', ts: 9 }, { visitor_id: 'ffffff', ts: 7 }],
    });
    expect(out.map((c) => [c.conv_kind, c.conv_key, c.conv_ts, c.visitor_ids])).toEqual([
      ['deal', 'deal:amo:1', 1_773_000_000, ['AAAAAA', 'ZZZZZZ']],
      ['lead', 'lead:FFFFFF', 7, ['FFFFFF']],
    ]);
  });
});

describe('credit SQL', () => {
  it('is generated for every model from one template, with the window and period spliced safely', () => {
    for (const model of MODEL_NAMES) {
      const sql = creditsSql({ db: 'throughline', model, windowDays: 30, period: { from: '2026-03-01', to: '2026-03-31' } });
      expect(sql).toContain('ts >= conv_ts - 2592000');
      expect(sql).toContain("conv_ts < toDateTime('2026-03-31 00:00:00', 'UTC') + 86400");
      expect(sql).not.toMatch(/\.hits\b/); // touches were joined from hits once per resolution
      expect(sql.match(/JOIN \(\s*SELECT conv_key, arraySort/g)).toHaveLength(1); // each conversion's touches, one array
    }
    // A report reads the resolution it names; the views read the newest one.
    const pinned = creditsSql({ db: 'throughline', model: 'linear', windowDays: 30, snapshot: { generation: 41, run: 42 } });
    expect(pinned.match(/run <= 42\)/g)).toHaveLength(2); // conversions and touches, each of the snapshot
    expect(pinned.match(/generation = 41 /g)).toHaveLength(6);
    expect(pinned).not.toContain('FROM throughline.attribution_runs)'); // no newest run looked up
    expect(creditsSql({ db: 'throughline', model: 'linear', windowDays: 30 }).match(/run <= \(SELECT max\(run\) FROM throughline\.attribution_runs\)/g)).toHaveLength(2);
    expect(() => creditsSql({ db: 'throughline', model: 'linear', windowDays: 30, snapshot: { generation: 1, run: NaN } })).toThrow();
    expect(() => creditsSql({ db: 'x; DROP', model: 'linear', windowDays: 30 })).toThrow();
    expect(() => creditsSql({ db: 'throughline', model: 'linear', windowDays: 400 })).toThrow(/365/);
    expect(() => periodWhere('ts', { from: "2026-01-01' OR 1" })).toThrow();
  });
});

describe('costs', () => {
  it('reads money into minor units exactly', () => {
    expect(['1500', '1500.5', '1500.05', '0.1', '19.99', '1,25'].map(toMinor)).toEqual([150000, 150050, 150005, 10, 1999, 125]);
    expect(['-1', '1.234', 'abc', ''].map(toMinor)).toEqual([null, null, null, null]);
  });

  it('parses CSV with any column order and normalises source and channel', () => {
    const r = parseCostsCsv('Campaign;Cost;Date;Source;Medium\nbrand;1500.50;2026-03-01; Yandex ;CPC\n');
    expect(r.problems).toEqual([]);
    expect(r.rows).toEqual([{ day: '2026-03-01', source: 'yandex', medium: 'cpc', campaign: 'brand', channel: 'paid_search', cost_minor: 150050, currency: '' }]);
  });

  it('names each bad row and refuses empty or malformed input', () => {
    expect(parseCostsJson('[{"date":"2026-03-01","source":"vk","cost":"x"},{"date":"01.03.2026","source":"vk","cost":1}]').problems.map((p) => p.row)).toEqual([1, 2]);
    expect(parseCostsJson('[]').problems[0]!.reason).toBe('no rows');
    expect(parseCostsJson('nope').problems[0]!.reason).toMatch(/JSON/);
    expect(parseCostsCsv('date,source,cost\n"2026-03-01,vk,1\n').problems[0]!.reason).toMatch(/^CSV/);
    expect(parseCostsJson('{"rows":[{"date":"2026-03-01","source":"vk","cost":2,"currency":"rub"}]}').rows[0]).toMatchObject({ cost_minor: 200, currency: 'RUB', channel: 'social' });
  });
});

describe('report options and formatting', () => {
  it('defaults to last non-direct click by channel over the configured window', () => {
    expect(parseReportOptions({}, 90)).toEqual({ options: { model: 'last_non_direct', group: 'channel', period: { from: undefined, to: undefined }, windowDays: 90 } });
    expect(parseReportOptions({ model: 'x' }, 90)).toMatchObject({ error: expect.stringMatching(/model/) });
    expect(parseReportOptions({ from: '2026-02-30' }, 90)).toMatchObject({ error: expect.stringMatching(/from/) });
    expect(parseReportOptions({ window: '0' }, 90)).toMatchObject({ error: expect.stringMatching(/window/) });
    expect(parseReportOptions({ group: 'campaign', window: '30' }, 90)).toMatchObject({ options: { group: 'campaign', windowDays: 30 } });
  });

  it('says when the identities behind the figures were resolved and whether newer ones are coming', () => {
    const r = { generation: 7, run: 7, finishedAt: '2026-03-31T10:00:00Z', ageSeconds: 30, current: true, refreshing: false, waitedMs: 0 };
    expect(resolutionNote(r)).toBe('Identities resolved 2026-03-31 10:00:00 UTC (30 s ago): the figures include every hit, deal and link stored.');
    expect(resolutionNote({ ...r, ageSeconds: 0, waitedMs: 2950 })).toBe(
      'Identities resolved 2026-03-31 10:00:00 UTC (0 s ago), for this report (3.0 s): the figures include every hit, deal and link stored.',
    );
    expect(resolutionNote({ ...r, ageSeconds: 600, current: false, refreshing: true })).toBe(
      'Identities resolved 2026-03-31 10:00:00 UTC (10 min ago): hits, deals or links arrived since and a refresh is running; ask again shortly for figures that include them.',
    );
    expect(resolutionNote({ ...r, ageSeconds: 7200, current: false })).toMatch(/\(2 h ago\): hits, deals or links arrived since; a later report will include them\.$/);
    expect(resolutionNote({ ...r, ageSeconds: 3 * 86_400 })).toMatch(/\(3 days ago\)/);
    expect(resolutionHeader({ ...r, current: false, refreshing: true })).toBe(
      'run=7; finished_at=2026-03-31T10:00:00Z; age_seconds=30; current=false; refreshing=true; waited_ms=0',
    );
  });

  it('formats minor units without floating point', () => {
    expect([0, 5, 105, 7_000_001, -5, 10_500_001].map(formatMinor)).toEqual(['0.00', '0.05', '1.05', '70000.01', '-0.05', '105000.01']);
  });
});
