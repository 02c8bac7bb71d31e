// The demo's sample (collector/src/sample/): loaded through the collector's admin
// endpoint beside a visitor's own visit, deal and cost, the report over it says
// what the generator made (won deals, revenue per channel and campaign under
// last non-direct click, visits, stages passed and refused); a second load adds
// nothing; removal takes exactly the sample and leaves the visitor's own rows;
// and no sample deal is ever sent outside (a stage action's webhook fires for the
// visitor's own won deal only, by the hook and by the sweep of a restart).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AMO, DEMO_FUNNEL, demoCrmConfig } from '../../collector/src/sample/demo-crm.js';
import { generateSample, type Sample } from '../../collector/src/sample/generate.js';
import { expectedCounts } from '../../collector/src/sample/store.js';
import { amoLeadPairs, amoWebhookBody } from '../helpers/amocrm-webhook.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { dropRedisPrefix } from '../helpers/redis.js';

const ADMIN = 'sample-test-admin-token-0123456789';
const REPORTS = 'sample-test-reports-token-0123456789';
const AMO_SECRET = 'sampleTestAmoSecret01';
/** The visitor's own: a visit from a VK ad, a deal from the site's form, won at 12 345.67, and a cost of the ad. */
const OWN = { visitor: 'RWN2RW', url: 'https://northwind.example/?utm_source=vk&utm_medium=cpc&utm_campaign=spring', amount: 1_234_567, cost: 50_000 };

type Row = { key: string; visits: number; leads: number; won: number; revenue_minor: number; cost_minor: number; roi: number | null; stages: { stage: string; passed: number; refused: number }[] };
type Report = { rows: Row[]; totals: Row };

/** Adds `n` at `key`. */
const add = (m: Record<string, number>, key: string, n: number) => void (m[key] = (m[key] ?? 0) + n);

describe('the demo sample', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let collectorEnv: Record<string, string>;
  /** A stage action's receiver: the deal ids of the webhooks it got. */
  let receiver: Server;
  const webhooks: string[] = [];
  let sample: Sample;
  const prefix = `tl_sample_${process.pid}:`;
  const admin = (method: string, token: string | null = ADMIN) =>
    fetch(`${collector.url}/admin/sample`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const report = async (query: string): Promise<Report> => {
    const r = await fetch(`${collector.url}/api/reports/channels?fresh=1&${query}`, { headers: { Authorization: `Bearer ${REPORTS}` } });
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as Report;
  };
  const figures = (rep: Report, field: 'revenue_minor' | 'visits' | 'won' | 'cost_minor') =>
    Object.fromEntries(rep.rows.filter((r) => r[field] !== 0).map((r) => [r.key, r[field]]));
  const count = async (query: string) => Number((await db.rows<{ n: string }>(`SELECT toString(count()) AS n FROM ${query}`))[0]!.n);
  /** A link is stored with every change of its deal and folds into one row at merge time: counted once. */
  const links = (where: string) => `(SELECT DISTINCT kind_a, id_a, kind_b, id_b FROM identity_links WHERE ${where})`;
  /** Rows of the sample and of the visitor's own, in each table. */
  const census = async () => ({
    sampleHits: await count(`hits WHERE site_id = '(sample)'`),
    sampleDeals: await count(`deals WHERE source = '(sample)'`),
    sampleLinks: await count(links(`evidence = 'sample'`)),
    sampleCosts: await count(`costs WHERE upload_id = 'sample'`),
    ownHits: await count(`hits WHERE site_id = 'demo'`),
    ownDeals: await count(`deals WHERE source = 'amo'`),
    ownLinks: await count(links(`evidence != 'sample'`)),
    ownCosts: await count(`costs WHERE upload_id != 'sample'`),
  });

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'tl-sample-'));
    const crmConfig = join(dir, 'crm.json');
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { deal } = JSON.parse(body) as { deal: { source: string; id: string } };
        webhooks.push(`${deal.source}:${deal.id}`);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/won`;
    // A webhook on entering "Paid": the sample's won deals enter it too, and must not reach it.
    const stageActions = [{ stage: 'Paid', webhook: { url: hook, secret: 'sample-test-webhook-secret-0123456789abcdef' } }];
    writeFileSync(crmConfig, JSON.stringify({ ...demoCrmConfig({ amoSecret: AMO_SECRET, importSecret: 'sampleTestImportSecret' }), stageActions }));
    collectorEnv = {
      CLICKHOUSE_DATABASE: db.name,
      BATCH_MAX_MS: '100',
      REDIS_PREFIX: prefix,
      CRM_CONFIG: crmConfig,
      CRM_ADMIN_TOKEN: ADMIN,
      REPORTS_TOKEN: REPORTS,
    };
    collector = await startCollector(collectorEnv);
    // The visitor's own visit, deal (added, then won) and cost.
    const hit = JSON.stringify({ s: 'demo', k: 'visit', e: `own-${process.pid}-visit`, t: Date.now() - 60_000, u: OWN.url, r: '', v: OWN.visitor });
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: hit, headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    await eventually(() => count(`hits WHERE site_id = 'demo'`), 10_000, (n) => n === 1);
    const now = Math.floor(Date.now() / 1000);
    const lead = { id: '5550001', pipeline: DEMO_AMO.pipeline, created: now - 50, fields: [['700001', 'tl_vid', OWN.visitor]] as [string, string, string][] };
    for (const body of [
      amoWebhookBody(DEMO_AMO.account, amoLeadPairs('add', 0, { ...lead, status: DEMO_AMO.firstStatus, price: 0, modified: now - 50 })),
      amoWebhookBody(DEMO_AMO.account, amoLeadPairs('status', 0, { ...lead, status: DEMO_AMO.won, oldStatus: DEMO_AMO.firstStatus, price: OWN.amount / 100, modified: now - 40 })),
    ]) {
      const r = await fetch(`${collector.url}/crm/amocrm/${DEMO_AMO.source}/${AMO_SECRET}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(await r.json()).toMatchObject({ stored: 1, deals: 1, refused: [], unusable: [] });
    }
    const today = new Date().toISOString().slice(0, 10);
    const costs = await fetch(`${collector.url}/api/costs`, {
      method: 'POST',
      body: `date,source,medium,campaign,cost\n${today},vk,cpc,spring,${OWN.cost / 100}\n`,
      headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${REPORTS}` },
    });
    expect(costs.status).toBe(200);
  });

  afterAll(async () => {
    receiver?.close();
    await collector?.stop();
    await db?.drop();
    await dropRedisPrefix(prefix);
  });

  it('is the same on every day, only dated back from it: a load on another day is recognised as the sample', () => {
    const a = generateSample('2026-03-31');
    const b = generateSample('2025-11-02');
    const shift = Date.parse('2026-03-31') - Date.parse('2025-11-02');
    expect(b.visits.map((v) => ({ ...v, ts: v.ts + shift }))).toEqual(a.visits);
    expect(b.deals.map((d) => ({ ...d, versions: d.versions.map((v) => ({ ...v, created_at: v.created_at + shift / 1000, updated_at: v.updated_at + shift / 1000 })) }))).toEqual(a.deals);
    expect(b.costs.map((c) => ({ ...c, date: new Date(Date.parse(c.date) + shift).toISOString().slice(0, 10) }))).toEqual(a.costs);
    expect(expectedCounts(b)).toEqual(expectedCounts(a));
    // All of it before the day it is dated back from.
    expect(Math.max(...a.visits.map((v) => v.ts), ...a.deals.flatMap((d) => d.versions.map((v) => v.updated_at * 1000)))).toBeLessThan(Date.parse('2026-03-31'));
  });

  it('is behind the admin token', async () => {
    expect((await admin('POST', null)).status).toBe(401);
    expect((await admin('DELETE', 'not-the-admin-token-at-all')).status).toBe(401);
    expect(await (await admin('GET', 'not-the-admin-token-at-all')).json()).toEqual({ error: 'bad_admin_token' });
    expect(await (await admin('GET')).json()).toEqual({ present: false, counts: { hits: 0, deals: 0, identity_links: 0, costs: 0 } });
  });

  it('loads once: a second load finds it all there and adds nothing', async () => {
    const first = await admin('POST');
    const loaded = (await first.json()) as { loaded: boolean; anchor: string; counts: Record<string, number> };
    expect(first.status).toBe(200);
    expect(loaded.loaded).toBe(true);
    expect(loaded.anchor).toBe(new Date().toISOString().slice(0, 10));
    sample = generateSample(loaded.anchor);
    const expected = expectedCounts(sample);
    expect(loaded.counts).toEqual(expected);
    // A few months of it: hundreds of visits and tens of deals of every outcome.
    expect(sample.visits.length).toBeGreaterThan(500);
    for (const outcome of ['won', 'lost', 'returned', 'paused', 'open']) expect(sample.deals.filter((d) => d.outcome === outcome).length).toBeGreaterThan(0);
    const before = await census();
    expect(before).toEqual({
      sampleHits: expected.hits,
      sampleDeals: expected.deals,
      sampleLinks: expected.identity_links,
      sampleCosts: expected.costs,
      ownHits: 1,
      ownDeals: 2,
      ownLinks: 1,
      ownCosts: 1,
    });

    const again = await admin('POST');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ loaded: false, counts: expected });
    expect(await census()).toEqual(before);
    expect(await (await admin('GET')).json()).toEqual({ present: true, counts: expected });
  });

  it('is never sent outside: a stage action fires for the visitor\'s own won deal only, after the load and after a restart\'s sweep', async () => {
    const own = `${DEMO_AMO.source}:5550001`;
    await eventually(async () => webhooks.length, 15_000, (n) => n >= 1);
    // The sweep of a start reads every deal received lately, the sample's among them.
    await collector.stop();
    collector = await startCollector(collectorEnv);
    const outbox = async () =>
      (await (await fetch(`${collector.url}/admin/outbox`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()) as { sweep: { looked: Record<string, number> } | null };
    const swept = await eventually(outbox, 15_000, (o) => o.sweep !== null);
    expect(swept.sweep!.looked.actions).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(webhooks).toEqual([own]);
    const sampleMessages = await count(`outbound_messages WHERE subject LIKE '(sample)%'`);
    expect(sampleMessages).toBe(0);
  });

  it('gives the report the figures of the generator under last non-direct click, beside the visitor\'s own', async () => {
    // What the generator made: a deal is credited to its person's last visit that was not direct.
    const revenue: Record<string, number> = { paid_social: OWN.amount };
    const won: Record<string, number> = { paid_social: 1 };
    const visits: Record<string, number> = { paid_social: 1 };
    const passed: Record<string, number> = { '1 Request': 1, '2 Qualified': 1, '3 Proposal': 1, Paid: 1 };
    const refused: Record<string, number> = {};
    for (const d of sample.deals) {
      if (d.outcome === 'won') {
        add(revenue, d.channel, d.amountMinor);
        add(won, d.channel, 1);
      }
      for (const s of d.passed) add(passed, s, 1);
      if (d.outcome === 'lost') add(refused, d.lostFrom, 1);
    }
    for (const v of sample.visits) if (v.kind === 'visit') add(visits, v.channel, 1);

    const rep = await report('model=last_non_direct');
    expect(figures(rep, 'revenue_minor')).toEqual(revenue);
    expect(figures(rep, 'won')).toEqual(won);
    expect(figures(rep, 'visits')).toEqual(visits);
    // Every form lead is a conversion: a deal, or a lead of a person without one; and the visitor's deal.
    expect(rep.totals.leads).toBe(sample.visits.filter((v) => v.kind === 'lead').length + 1);
    const stages = Object.fromEntries(rep.totals.stages.map((s) => [s.stage, s]));
    expect(Object.keys(stages)).toEqual(DEMO_FUNNEL.map((s) => s.stage));
    for (const { stage } of DEMO_FUNNEL) expect([stage, stages[stage]!.passed, stages[stage]!.refused]).toEqual([stage, passed[stage] ?? 0, refused[stage] ?? 0]);
    expect(Object.values(refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // Costs per campaign and day: some campaigns pay off, others do not, as the generator made them.
    const byCampaign = await report('model=last_non_direct&group=campaign');
    const cost: Record<string, number> = { 'vk / spring': OWN.cost };
    const campaignRevenue: Record<string, number> = { 'vk / spring': OWN.amount };
    for (const c of sample.costs) add(cost, `${c.source} / ${c.campaign}`, Math.round(Number(c.cost) * 100));
    for (const d of sample.deals) {
      const tags = d.versions[0]!.fields;
      if (d.outcome === 'won' && tags.utm_medium === 'cpc') add(campaignRevenue, `${tags.utm_source} / ${tags.utm_campaign}`, d.amountMinor);
    }
    const rows = Object.fromEntries(byCampaign.rows.map((r) => [r.key, r]));
    for (const [key, c] of Object.entries(cost)) {
      expect([key, rows[key]?.cost_minor, rows[key]?.revenue_minor]).toEqual([key, c, campaignRevenue[key] ?? 0]);
      expect(rows[key]!.roi).toBeCloseTo(((campaignRevenue[key] ?? 0) - c) / c, 8);
    }
    expect(rows['yandex / brand']!.roi).toBeGreaterThan(0);
    expect(rows['google / search']!.roi).toBeLessThan(0);

    // Under every model the money is the same, only shared out differently.
    const total = Object.values(revenue).reduce((a, b) => a + b, 0);
    for (const model of ['first_click', 'last_click', 'linear', 'position_based', 'time_decay']) {
      expect([model, (await report(`model=${model}`)).totals.revenue_minor]).toEqual([model, total]);
    }
  });

  it('is removed exactly: the visitor\'s own visit, deal, links and cost stay, and the report is theirs alone', async () => {
    const before = await census();
    const r = await admin('DELETE');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ removed: expectedCounts(sample) });
    expect(await census()).toEqual({ ...before, sampleHits: 0, sampleDeals: 0, sampleLinks: 0, sampleCosts: 0 });
    expect(await (await admin('GET')).json()).toEqual({ present: false, counts: { hits: 0, deals: 0, identity_links: 0, costs: 0 } });
    for (const model of ['first_click', 'last_click', 'last_non_direct', 'linear', 'position_based', 'time_decay']) {
      const rep = await report(`model=${model}`);
      expect([model, figures(rep, 'revenue_minor'), figures(rep, 'visits'), figures(rep, 'cost_minor')]).toEqual([
        model,
        { paid_social: OWN.amount },
        { paid_social: 1 },
        { paid_social: OWN.cost },
      ]);
    }
    // Removing again removes nothing.
    expect(await (await admin('DELETE')).json()).toEqual({ removed: { hits: 0, deals: 0, identity_links: 0, costs: 0 } });
  });

  it('is refused, with the reason, where the funnel in force lacks its stages', async () => {
    const put = (config: unknown) =>
      fetch(`${collector.url}/crm/config`, { method: 'PUT', body: JSON.stringify(config), headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } });
    expect((await put({ funnel: [{ stage: 'Lead' }, { stage: 'Won', marker: 'won' }] })).status).toBe(200);
    const r = await admin('POST');
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({
      error: 'sample_refused',
      reason: `the funnel in force has no stage "1 Request", "2 Qualified", "3 Proposal", "Paid", "Refused", "Refund", "On hold": the sample's deals go through the demo's funnel`,
    });
    expect((await census()).sampleHits).toBe(0);
  });
});
