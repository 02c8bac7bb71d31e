// Any other CRM: the JSON deals API and the CSV upload, into the real ClickHouse.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEmail, hashPhone } from '../../collector/src/identity/hash.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { CLICKHOUSE_URL } from '../helpers/env.js';
import { COLLECTOR_MAIN, startCollector, type RunningCollector } from '../helpers/collector.js';

const SECRET = 'shop_secret_0123456789abcdef';
const KEY = 'import-identity-key-0123456789';

describe('deal import (JSON and CSV)', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let dir: string;
  const post = (path: string, body: string, type: string, secret = SECRET) =>
    fetch(`${collector.url}/crm/import/shop/${secret}/${path}`, { method: 'POST', body, headers: { 'Content-Type': type } });
  const current = (id: string) => db.rows<Record<string, unknown>>(`SELECT * FROM deals_current WHERE source = 'shop' AND deal_id = '${id}'`).then((r) => r[0]);

  beforeAll(async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-import-'));
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({
        funnel: [{ stage: 'Order' }, { stage: 'Shipped' }, { stage: 'Paid', marker: 'won' }, { stage: 'Cancelled', marker: 'lost' }, { stage: 'Refunded', marker: 'returned' }],
        sources: {
          shop: {
            kind: 'import',
            secret: SECRET,
            pipelines: { '*': { new: 'Order', shipped: 'Shipped', paid: 'Paid', cancelled: 'Cancelled', refunded: 'Refunded' } },
            calculated: [{ name: 'margin', formula: 'amount - cost', variables: { cost: 'cost' } }],
          },
        },
      }),
    );
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), IDENTITY_KEY: KEY, REDIS_PREFIX: `t_${db.name}:` });
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes deals as JSON: paid, then refunded (revenue reversed), history kept', async () => {
    const deal = {
      id: 'A-1',
      name: 'Order A-1',
      status: 'new',
      amount: '2 499.90',
      created_at: '2024-06-01T09:00:00Z',
      updated_at: '2024-06-01T09:00:00Z',
      emails: ['Buyer@Example.com'],
      phones: ['8 916 000-00-01'],
      fields: { visitor_id: 'hk7m9p', utm_source: 'vk', cost: 1500 },
    };
    const r = await post('deals', JSON.stringify({ deals: [deal, { ...deal, status: 'paid', updated_at: '2024-06-02T09:00:00Z' }] }), 'application/json');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ deals: 2 });
    expect(await current('A-1')).toMatchObject({
      stage: 'Paid',
      outcome: 'won',
      stages_passed: ['Order', 'Shipped', 'Paid'],
      amount_minor: '249990',
      visitor_id: 'HK7M9P',
      utm_source: 'vk',
      email_hashes: [hashEmail('buyer@example.com', KEY)],
      phone_hashes: [hashPhone('+79160000001', KEY)],
    });
    const c = (await current('A-1'))!;
    expect((c.field_values as string[])[(c.field_names as string[]).indexOf('margin')]).toBe('999.9');
    const refunded = await post('deals', JSON.stringify({ deals: [{ ...deal, status: 'refunded', updated_at: '2024-06-05T09:00:00Z' }] }), 'application/json');
    expect(refunded.status).toBe(200);
    expect(await current('A-1')).toMatchObject({ stage: 'Refunded', outcome: 'returned', stages_passed: ['Order', 'Shipped', 'Paid', 'Refunded'] });
    const history = await db.rows<{ outcome: string }>(`SELECT outcome FROM deals FINAL WHERE deal_id = 'A-1' ORDER BY version`);
    expect(history.map((h) => h.outcome)).toEqual(['open', 'won', 'returned']);
    const links = await db.rows(`SELECT kind_b, evidence FROM identity_links FINAL WHERE id_a = 'shop:A-1' ORDER BY kind_b`);
    expect(links).toEqual([
      { kind_b: 'email', evidence: 'import' },
      { kind_b: 'phone', evidence: 'import' },
      { kind_b: 'visitor', evidence: 'import' },
    ]);
  });

  it('takes a CSV export; the same file again changes nothing; a deleted row marks the deal deleted', async () => {
    const csv = ['id;name;status;amount;currency;updated_at;email;utm_source;region', 'B-1;Order B-1;shipped;100,00;RUB;1717200000;b@example.com;google;Moscow', 'B-2;Order B-2;cancelled;50;RUB;1717200000;;;'].join('\n');
    for (let i = 0; i < 2; i++) {
      const r = await post('deals.csv', csv, 'text/csv');
      expect(r.status).toBe(200);
    }
    const n = await db.rows(`SELECT count() AS n FROM deals FINAL WHERE deal_id IN ('B-1', 'B-2')`);
    expect(n).toEqual([{ n: '2' }]);
    expect(await current('B-1')).toMatchObject({ stage: 'Shipped', amount_minor: '10000', utm_source: 'google', field_names: ['utm_source', 'region'], field_values: ['google', 'Moscow'] });
    expect(await current('B-2')).toMatchObject({ stage: 'Cancelled', outcome: 'lost' });

    const del = 'id,status,updated_at,deleted\nB-1,shipped,1717300000,1\n';
    expect((await post('deals.csv', del, 'text/csv')).status).toBe(200);
    expect(await current('B-1')).toMatchObject({ deleted: 1 });
  });

  it('refuses a bad row with a reason naming it, a body that is not one, and a bad secret', async () => {
    const bad = await post('deals.csv', 'id,status,updated_at,amount\n,new,1717200000,10\nC-2,new,yesterday,10\n', 'text/csv');
    expect(bad.status).toBe(200);
    expect(await bad.json()).toMatchObject({
      stored: 0,
      refused: [
        { record: 'line 2', reason: expect.stringMatching(/^id: /) },
        { record: 'C-2', reason: 'updated_at: a unix time or an ISO 8601 date' },
      ],
    });
    const json = await post('deals', JSON.stringify({ deals: [{ id: 'C-3', updated_at: 1717200000 }] }), 'application/json');
    expect(json.status).toBe(200);
    expect((await json.json()).refused).toEqual([{ record: 'C-3', reason: expect.stringMatching(/^status: /) }]);
    const before = await db.rows(`SELECT count() AS n FROM deals`);
    expect(await (await post('deals', '{"deals":{}}', 'application/json')).json()).toMatchObject({ error: 'bad_deals', reason: expect.stringMatching(/^deals: /) });
    expect((await post('deals', '{', 'application/json')).status).toBe(400);
    expect((await post('deals', '{}', 'application/json', 'wrong_secret_0123456789abcdef')).status).toBe(401);
    expect(await db.rows(`SELECT count() AS n FROM deals`)).toEqual(before);
  });

  it('keeps a 19-digit id sent as a bare JSON number, and a long amount, exactly', async () => {
    // JSON.parse would read both ids as 5725767000004318000: two deals folded into one under a wrong id.
    const body = `{"deals":[{"id":5725767000004318061,"status":"paid","amount":12345678901234.56,"updated_at":1717200000},
      {"id":5725767000004318062,"status":"paid","amount":1,"updated_at":1717200000}]}`;
    const r = await post('deals', body, 'application/json');
    expect(await r.json()).toMatchObject({ deals: 2, refused: [] });
    expect(await current('5725767000004318061')).toMatchObject({ amount_minor: '1234567890123456' });
    expect(await current('5725767000004318062')).toMatchObject({ amount_minor: '100' });
    expect(await current('5725767000004318000')).toBeUndefined();
  });

  it('resolves identities again once an import is stored, so the next report is current without waiting', async () => {
    const deal = { id: 'R-1', name: 'Order R-1', status: 'paid', amount: '10', created_at: '2024-07-01T09:00:00Z', updated_at: '2024-07-01T09:00:00Z', fields: { visitor_id: 'rr7m9p' } };
    expect((await post('deals', JSON.stringify({ deals: [deal] }), 'application/json')).status).toBe(200);
    // No report was asked for: the collector resolved on its own after the delivery.
    const latest = () =>
      db.rows<{ conv_key: string; outcome: string; visitor_ids: string[] }>(
        `SELECT conv_key, outcome, visitor_ids FROM attribution_conversions WHERE run = (SELECT max(run) FROM attribution_runs) AND deal_id = 'R-1'`,
      );
    expect(await eventually(latest, 20_000)).toEqual([{ conv_key: 'deal:shop:R-1', outcome: 'won', visitor_ids: ['RR7M9P'] }]);
  });

  it('refuses to start on a bad CRM configuration file and says where the mistake is', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ funnel: [{ stage: 'Paid', marker: 'won' }, { stage: 'Closed', marker: 'won' }], sources: { shop: { kind: 'import', secret: 'short' } } }));
    const r = spawnSync(process.execPath, [COLLECTOR_MAIN], {
      env: { PATH: process.env.PATH, CLICKHOUSE_URL, CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: bad, THROUGHLINE_PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`CRM_CONFIG ${bad}:`);
    expect(r.stderr).toContain('sources.shop.secret: at least 16 characters');
    const r2 = spawnSync(process.execPath, [COLLECTOR_MAIN], {
      env: { PATH: process.env.PATH, CLICKHOUSE_URL, CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'missing.json'), THROUGHLINE_PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r2.status).toBe(78);
    expect(r2.stderr).toMatch(/CRM_CONFIG .*missing\.json: ENOENT/);
  });
});
