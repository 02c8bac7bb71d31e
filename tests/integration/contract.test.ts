// The ids end to end with no configuration: a visitor lands from an ad, the
// tracker's hidden fields go into the site's form, and the deal a CRM makes of
// that form (imported as JSON or CSV exactly as the demo's thank-you page shows
// it, no identity fields configured) is attributed to the landing's channel.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { FIELDS, fieldValues } from '../../tracker/src/forms.js';

const SECRET = 'shop_secret_0123456789abcdef';
const HOST = 'shop.example';

describe('the tracker\'s hidden fields, read by the CRM side with no configuration', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let dir: string;

  beforeAll(async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-contract-'));
    // The funnel and the statuses only: no identityFields.
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({ funnel: [{ stage: 'Lead' }, { stage: 'Paid', marker: 'won' }], sources: { shop: { kind: 'import', secret: SECRET, pipelines: { '*': { new: 'Lead', paid: 'Paid' } } } } }),
    );
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), BATCH_MAX_MS: '100', REDIS_PREFIX: `t_${db.name}:` });
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A visitor as the tracker sees it: an id issued by the collector, a visit
   * from the landing, and the form fields the browser posts to the thank-you
   * page (each visitor their own phone, e-mail and GA id: one person per deal).
   */
  async function visitor(landing: string, phone: string): Promise<{ vid: string; form: Record<string, string> }> {
    const vid = await (await fetch(`${collector.url}/vid`)).text();
    const referrer = 'https://www.google.com/';
    const hit = { s: 'shop', k: 'visit', e: `visit-${vid}-0001`, t: Date.now() - 3_600_000, u: landing, r: referrer, v: vid, g: '', y: '' };
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: JSON.stringify(hit) })).status).toBe(204);
    await eventually(() => db.rows(`SELECT 1 FROM hits WHERE visitor_id = '${vid}'`));
    const touch = `${landing} ${referrer}`;
    const values = fieldValues({ v: vid, g: `${phone.replace(/\D/g, '')}.1600020018`, y: '' }, touch, touch);
    const hidden = Object.fromEntries(FIELDS.flatMap((name, i) => (values[i] ? [[name, values[i]!]] : [])));
    return { vid, form: { name: 'Ivan', phone, email: `ivan.${vid.toLowerCase()}@example.com`, ...hidden } };
  }

  /** The channel and source the deal's touches were attributed to, once resolved. */
  const touches = (dealId: string) =>
    eventually(
      () => db.rows<{ channel: string; source: string }>(`SELECT channel, source FROM attribution_touches WHERE run = (SELECT max(run) FROM attribution_runs) AND conv_key = 'deal:shop:${dealId}'`),
      30_000,
    );

  it('a deal imported as JSON with the thank-you page\'s fields is attributed to the landing', async () => {
    const { vid, form } = await visitor(`https://${HOST}/?utm_source=google&utm_medium=cpc&utm_campaign=brand&gbraid=0AAAAA`, '+7 916 000-00-01');
    expect(form).toMatchObject({ tl_vid: vid, utm_source: 'google', gbraid: '0AAAAA' });
    const now = new Date().toISOString();
    const deal = { id: 'J-1', status: 'paid', amount: '1000', created_at: now, updated_at: now, fields: form };
    const r = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals`, { method: 'POST', body: JSON.stringify({ deals: [deal] }), headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(200);
    const [row] = await db.rows<{ visitor_id: string; ga_cid: string; utm_source: string }>(`SELECT visitor_id, ga_cid, utm_source FROM deals_current WHERE deal_id = 'J-1'`);
    expect(row).toEqual({ visitor_id: vid, ga_cid: '79160000001.1600020018', utm_source: 'google' });
    expect(await touches('J-1')).toEqual([{ channel: 'paid_search', source: 'google' }]);
  });

  it('a deal uploaded as CSV with the thank-you page\'s fields as columns is attributed to the landing', async () => {
    const { vid, form } = await visitor(`https://${HOST}/?dclid=CKX9`, '+7 916 000-00-02');
    const now = new Date().toISOString();
    const csv = stringify([{ id: 'C-1', status: 'paid', amount: '500', created_at: now, updated_at: now, ...form }], { header: true });
    const r = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals.csv`, { method: 'POST', body: csv, headers: { 'Content-Type': 'text/csv' } });
    expect(r.status).toBe(200);
    const [row] = await db.rows<{ visitor_id: string }>(`SELECT visitor_id FROM deals_current WHERE deal_id = 'C-1'`);
    expect(row).toEqual({ visitor_id: vid });
    expect(await touches('C-1')).toEqual([{ channel: 'display', source: 'google' }]);
  });
});
