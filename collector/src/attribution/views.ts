// The analyst views: the same credit SQL the reports run (credits-sql.ts), one
// view per model, with the installation's look-back window. They are rebuilt at
// every start, so they always carry the current SQL, window and report currency:
//   attribution_conversions_current   conversions of the newest identity resolution
//   attribution_credits_<model>       one row per credited touch (docs/analysts.md)
import type { ClickHouseClient } from '../clickhouse/client.js';
import { ident } from '../clickhouse/sql.js';
import { conversionsFrom, creditsSql } from './credits-sql.js';
import { MODEL_NAMES } from './models.js';
import type { ReportMoney } from '../currency/rate.js';

/** The columns of a conversion an analyst reads (the run that wrote it, without its generation and removal mark). */
const CONVERSION_COLUMNS = `run, conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage,
  amount_minor, revenue_minor, currency, closed_at, visitor_ids`;

export function viewStatements(db: string, windowDays: number, money?: ReportMoney): { name: string; sql: string }[] {
  const d = ident(db);
  return [
    { name: `${d}.attribution_conversions_current`, sql: `SELECT ${CONVERSION_COLUMNS} FROM ${conversionsFrom(db)}` },
    ...MODEL_NAMES.map((model) => ({ name: `${d}.attribution_credits_${model}`, sql: creditsSql({ db, model, windowDays, money }) })),
  ];
}

export async function installViews(client: ClickHouseClient, db: string, windowDays: number, money?: ReportMoney): Promise<void> {
  for (const v of viewStatements(db, windowDays, money)) {
    await client.command({ query: `DROP TABLE IF EXISTS ${v.name}` });
    await client.command({ query: `CREATE VIEW IF NOT EXISTS ${v.name} AS ${v.sql}` });
  }
}
