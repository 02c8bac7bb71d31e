// How the sample is marked in every table it writes, so that removing it takes
// exactly its rows. The site and the CRM source are named `(sample)`, a name no
// tracker can send (site ids are letters, digits, _ . -) and no CRM source can
// have (source names are lower-case letters, digits, _ and -): a real site or
// source is never taken for the sample.
import { queryRows, type ClickHouseClient } from '../clickhouse/client.js';
import { ident, str } from '../clickhouse/sql.js';

export const SAMPLE = {
  /** hits.site_id of the sample's visits and form leads. */
  site: '(sample)',
  /** deals.source of the sample's deals (deal keys `(sample):<id>` in identity_links). */
  source: '(sample)',
  /** identity_links.evidence of the links its deals bring. */
  evidence: 'sample',
  /** costs.upload_id of its costs (real uploads have UUIDs). */
  upload: 'sample',
} as const;

/** The WHERE of each table's sample rows. */
export const SAMPLE_ROWS = {
  hits: `site_id = ${str(SAMPLE.site)}`,
  deals: `source = ${str(SAMPLE.source)}`,
  identity_links: `evidence = ${str(SAMPLE.evidence)} OR startsWith(id_a, ${str(`${SAMPLE.source}:`)}) OR startsWith(id_b, ${str(`${SAMPLE.source}:`)})`,
  costs: `upload_id = ${str(SAMPLE.upload)}`,
} as const;

export type SampleTable = keyof typeof SAMPLE_ROWS;
export const SAMPLE_TABLES = Object.keys(SAMPLE_ROWS) as SampleTable[];

/** How many distinct sample records each table holds (a row stored twice, not yet merged, counts once). */
export async function sampleCounts(client: ClickHouseClient, db: string): Promise<Record<SampleTable, number>> {
  const d = ident(db);
  const [row] = await queryRows<Record<SampleTable, string>>(
    client,
    `SELECT
      (SELECT uniqExact(event_id) FROM ${d}.hits WHERE ${SAMPLE_ROWS.hits}) AS hits,
      (SELECT uniqExact(deal_id, version) FROM ${d}.deals WHERE ${SAMPLE_ROWS.deals}) AS deals,
      (SELECT uniqExact(kind_a, id_a, kind_b, id_b) FROM ${d}.identity_links WHERE ${SAMPLE_ROWS.identity_links}) AS identity_links,
      (SELECT uniqExact(day, source, medium, campaign) FROM ${d}.costs WHERE ${SAMPLE_ROWS.costs}) AS costs`,
  );
  return { hits: Number(row?.hits), deals: Number(row?.deals), identity_links: Number(row?.identity_links), costs: Number(row?.costs) };
}

/**
 * Whether the sample is there (any of it): a page that shows figures says then
 * that they include sample data (`npm run demo:clear-sample` removes it).
 */
export async function sampleShown(client: ClickHouseClient, db: string): Promise<boolean> {
  const d = ident(db);
  const [row] = await queryRows<{ n: string }>(
    client,
    `SELECT (SELECT count() FROM ${d}.hits WHERE ${SAMPLE_ROWS.hits}) + (SELECT count() FROM ${d}.deals WHERE ${SAMPLE_ROWS.deals}) AS n`,
  );
  return Number(row?.n) > 0;
}
