// A deal's versions in the CRM's order, end to end: amoCRM webhooks (no API
// credentials, so a delete carries nothing but the id) posted to the built
// collector, the current state read from the real ClickHouse.
//   - a restore whose CRM time is earlier than the delete's arrival revives the deal;
//   - an edit made before a delete but delivered after it does not revive it;
//   - a repeated delivery is answered as repeated and writes nothing;
//   - the closing date is the moment of winning, kept through later edits;
//   - a deal lost from a stage Throughline never saw is lost from the webhook's old_status_id.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';

const SECRET = 'amo_order_secret_0123456789';
const ACCOUNT = [['account[subdomain]', 'apfitness']];
const PIPELINE = '9217056';
const S = { request: '20067736', qualified: '20067739', proposal: '20067742', won: '142', lost: '143' };
const FUNNEL = [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: '3 Proposal' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }];
const PIPELINES = { [PIPELINE]: { [S.request]: '1 Request', [S.qualified]: '2 Qualified', [S.proposal]: '3 Proposal', '142': 'Won', '143': 'Lost' } };

/** One lead as amoCRM writes it in a webhook; `old` is the status it left (status webhooks only). */
function lead(action: string, id: string, status: string, price: number, modified: number, old?: string): string[][] {
  const p = `leads[${action}][0]`;
  const pairs = [
    [`${p}[id]`, id],
    [`${p}[name]`, `Deal ${id}`],
    [`${p}[status_id]`, status],
    [`${p}[price]`, String(price)],
    [`${p}[last_modified]`, String(modified)],
    [`${p}[date_create]`, '1700000000'],
    [`${p}[pipeline_id]`, PIPELINE],
  ];
  if (old) pairs.push([`${p}[old_status_id]`, old], [`${p}[old_pipeline_id]`, PIPELINE]);
  return pairs;
}
const form = (...groups: string[][][]) => new URLSearchParams([...groups, ACCOUNT].flat() as [string, string][]).toString();
const del = (id: string) => form([['leads[delete][0][id]', id]]);

describe('deal versions in the CRM’s order', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let dir: string;

  const post = async (body: string) => {
    const r = await fetch(`${collector.url}/crm/amocrm/amo/${SECRET}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(200);
    return (await r.json()) as Record<string, unknown>;
  };
  const current = (id: string) => db.rows<Record<string, unknown>>(`SELECT * FROM deals_current WHERE source = 'amo' AND deal_id = '${id}'`).then((r) => r[0]);
  const rawRows = (id: string) => db.rows<{ n: string }>(`SELECT count() AS n FROM deals WHERE source = 'amo' AND deal_id = '${id}'`).then((r) => Number(r[0]!.n));

  beforeAll(async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-order-'));
    const config = { funnel: FUNNEL, sources: { amo: { kind: 'amocrm', secret: SECRET, account: { subdomain: 'apfitness' }, pipelines: PIPELINES } } };
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), REDIS_PREFIX: `t_${db.name}:` });
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a restore revives the deal although its CRM time is earlier than the delete’s arrival', async () => {
    // amoCRM's clock (and the delays of a replay) put every CRM time in 2023; the deliveries arrive now.
    await post(form(lead('add', '5001', S.request, 100, 1700000100)));
    await post(form(lead('status', '5001', S.won, 100, 1700000200, S.request)));
    await post(del('5001'));
    expect(await current('5001')).toMatchObject({ deleted: 1 });
    await post(form(lead('restore', '5001', S.won, 100, 1700000300)));
    expect(await current('5001')).toMatchObject({ deleted: 0, outcome: 'won', amount_minor: '10000' });
    // The API-less delete again (a real second delete: the deal was live) and its restore.
    await post(del('5001'));
    expect(await current('5001')).toMatchObject({ deleted: 1 });
    await post(form(lead('restore', '5001', S.won, 100, 1700000400)));
    expect(await current('5001')).toMatchObject({ deleted: 0 });
  });

  it('an edit made before the delete but delivered after it does not revive the deal', async () => {
    await post(form(lead('add', '5002', S.request, 100, 1700000100)));
    await post(del('5002'));
    await post(form(lead('update', '5002', S.request, 250, 1700000150)));
    expect(await current('5002')).toMatchObject({ deleted: 1, amount_minor: '25000' });
    await post(form(lead('restore', '5002', S.request, 250, 1700000500)));
    expect(await current('5002')).toMatchObject({ deleted: 0, amount_minor: '25000' });
  });

  it('a repeated delivery is answered as repeated and writes nothing', async () => {
    const add = form(lead('add', '5003', S.request, 100, 1700000100));
    expect(await post(add)).toMatchObject({ deals: 1, repeated: 0 });
    const rows = await rawRows('5003');
    expect(await post(add)).toMatchObject({ deals: 0, repeated: 1 });
    expect(await rawRows('5003')).toBe(rows);
    expect(await post(del('5003'))).toMatchObject({ deals: 1 });
    expect(await post(del('5003'))).toMatchObject({ deals: 0, repeated: 1 });
    expect(await rawRows('5003')).toBe(rows + 1);
  });

  it('the closing date is the moment the deal was won, kept through later edits', async () => {
    await post(form(lead('add', '5004', S.request, 100, 1700000100)));
    await post(form(lead('status', '5004', S.won, 100, 1700000200, S.request)));
    await post(form(lead('update', '5004', S.won, 120, 1700000900)));
    expect(await current('5004')).toMatchObject({ outcome: 'won', amount_minor: '12000', closed_at: '2023-11-14 22:16:40', changed_at: '2023-11-14 22:28:20' });
    // Lost later: the closing date is the moment of losing.
    await post(form(lead('status', '5004', S.lost, 120, 1700001000, S.won)));
    await post(form(lead('update', '5004', S.lost, 130, 1700001100)));
    expect(await current('5004')).toMatchObject({ outcome: 'lost', closed_at: '2023-11-14 22:30:00' });
  });

  it('a deal lost from a stage Throughline never saw it in is lost from the webhook’s old status', async () => {
    await post(form(lead('status', '5005', S.lost, 100, 1700000100, S.proposal)));
    expect(await current('5005')).toMatchObject({ outcome: 'lost', lost_from_stage: '3 Proposal', stages_passed: ['3 Proposal', 'Lost'] });
  });
});
