// Loading the sample into a running collector's database, marked as the sample
// (marks.ts). Visits and form leads become hit rows (the channel of each found by
// the collector's own rules, hits/row.ts), costs go through the cost upload's
// check, and deals through the CRM side's ingest as an import source would send
// them, so the funnel, versions and identity links are the ones real deals get.
//
// Loading is idempotent: a sample that is all there is left alone (a restarted
// demo does not double it); one partly there (a load cut short, a removal cut
// short) is removed and loaded anew.
import type { Redis } from 'ioredis';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { ident, toDateTimeString } from '../clickhouse/sql.js';
import { parseCostsJson } from '../costs/parse.js';
import { loadCrmConfig, type LoadedConfig, type SourceConfig } from '../crm/config/schema.js';
import type { DealIngest } from '../crm/deals/ingest.js';
import { dealsFromBody } from '../crm/import/rows.js';
import { toRow } from '../hits/row.js';
import { NO_DROPS, NO_PROPS } from '../hits/wire.js';
import { idKey, VISITOR_ID_TTL_SECONDS } from '../visitor-id/issue.js';
import { DEMO_FUNNEL, DEMO_IMPORT } from './demo-crm.js';
import { generateSample, type Sample } from './generate.js';
import { SAMPLE, sampleCounts, SAMPLE_TABLES, type SampleTable } from './marks.js';
import { removeSample } from './remove.js';

export type SampleDeps = {
  clickhouse: ClickHouseClient;
  db: string;
  redis: Redis;
  ingest: DealIngest;
  /** The CRM configuration in force: its funnel must have the sample's stages. */
  crm: () => LoadedConfig;
  /** The report currency: the sample's money is in it. */
  currency: string;
};

/** A load the installation cannot take, with why (answered 409). */
export class SampleRefused extends Error {}

export type LoadResult = {
  /** False when the whole sample was there already. */
  loaded: boolean;
  /** The day the loaded sample ends before (generateSample's anchor); absent when nothing was loaded. */
  anchor?: string;
  counts: Record<SampleTable, number>;
};

/** The rows each table holds once the sample is all there: the same on any day. */
export function expectedCounts(s: Sample): Record<SampleTable, number> {
  return {
    hits: s.visits.length,
    deals: s.deals.reduce((n, d) => n + d.versions.length, 0),
    // Each deal carries its visitor's id: one deal ↔ visitor link.
    identity_links: s.deals.length,
    costs: s.costs.length,
  };
}

/** The import source the sample's deals come from: the demo's import statuses, in the report currency. */
function sampleSource(currency: string): SourceConfig {
  const config = loadCrmConfig({
    funnel: DEMO_FUNNEL,
    sources: { sample: { kind: 'import', secret: 'never-a-door-of-its-own', currency, pipelines: { '*': DEMO_IMPORT.statuses } } },
  });
  return config.raw.sources.sample!;
}

/** Loads the sample of the day `anchor` (YYYY-MM-DD, UTC) unless it is all there. */
export async function loadSample(deps: SampleDeps, anchor: string): Promise<LoadResult> {
  const sample = generateSample(anchor);
  const expected = expectedCounts(sample);
  const have = await sampleCounts(deps.clickhouse, deps.db);
  if (SAMPLE_TABLES.every((t) => have[t] === expected[t])) return { loaded: false, counts: have };
  const config = deps.crm();
  const missing = [...new Set(Object.values(DEMO_IMPORT.statuses))].filter((stage) => !config.funnel.byName.has(stage));
  if (missing.length) {
    throw new SampleRefused(`the funnel in force has no stage ${missing.map((s) => `"${s}"`).join(', ')}: the sample's deals go through the demo's funnel`);
  }
  if (SAMPLE_TABLES.some((t) => have[t] > 0)) await removeSample(deps.clickhouse, deps.db);
  await claimVisitorIds(deps.redis, sample);
  await insertVisits(deps, sample);
  await insertCosts(deps, sample);
  await insertDeals(deps, sample, config);
  return { loaded: true, anchor, counts: await sampleCounts(deps.clickhouse, deps.db) };
}

/**
 * The sample's visitor ids are claimed as issued ids (visitor-id/issue.ts), so
 * that the collector never gives one of them to a real visitor, whose visits
 * would then join a sample person's deals. An id a real visitor already holds
 * stays theirs. The claims are not taken back on removal: they expire unused.
 */
async function claimVisitorIds(redis: Redis, s: Sample): Promise<void> {
  const ids = [...new Set(s.visits.map((v) => v.visitorId))];
  const claims = ids.reduce((p, id) => p.set(idKey(id), SAMPLE.evidence, 'EX', VISITOR_ID_TTL_SECONDS, 'NX'), redis.pipeline());
  await claims.exec();
}

async function insertVisits(deps: SampleDeps, s: Sample): Promise<void> {
  const rows = s.visits.map((v) =>
    toRow(
      { siteId: SAMPLE.site, kind: v.kind, eventId: v.eventId, clientTs: v.ts, url: v.url, referrer: v.referrer, gaCid: '', ymUid: '', visitorId: v.visitorId, props: NO_PROPS, automated: false, dropped: NO_DROPS },
      v.ts,
      { userAgent: '', ipHash: '' },
    ),
  );
  await deps.clickhouse.insert({ table: `${ident(deps.db)}.hits`, values: rows, format: 'JSONEachRow' });
}

async function insertCosts(deps: SampleDeps, s: Sample): Promise<void> {
  const parsed = parseCostsJson(JSON.stringify(s.costs));
  if (parsed.problems.length) throw new Error(`sample costs refused: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  const uploadedAt = toDateTimeString(Date.now());
  await deps.clickhouse.insert({
    table: `${ident(deps.db)}.costs`,
    values: parsed.rows.map((r) => ({ ...r, currency: deps.currency, uploaded_at: uploadedAt, upload_id: SAMPLE.upload })),
    format: 'JSONEachRow',
  });
}

async function insertDeals(deps: SampleDeps, s: Sample, config: LoadedConfig): Promise<void> {
  const read = dealsFromBody({ deals: s.deals.flatMap((d) => d.versions) }, false);
  if ('error' in read || read.refused.length) throw new Error(`sample deals refused: ${JSON.stringify('error' in read ? read.error : read.refused.slice(0, 3))}`);
  const ctx = { sourceId: SAMPLE.source, source: sampleSource(deps.currency), config, evidence: SAMPLE.evidence };
  const result = await deps.ingest.apply(ctx, read.deals, []);
  if (result.refused.length || result.errors.length) throw new Error(`sample deals refused: ${JSON.stringify([...result.refused, ...result.errors].slice(0, 3))}`);
}
