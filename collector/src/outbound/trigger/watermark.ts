// Where the trigger's scan of the visits has got to (received_at, unix
// seconds), kept in ClickHouse so that a restart goes on from there: the visits
// that arrived while the collector was down are looked at, none twice over (the
// scan overlaps its last minute, and a visit looked at again makes the same
// message id, which changes nothing).
//
// It is kept as a row of crm_config, the CRM side's small state table
// (migrations/0012_crm_state.sql: ReplacingMergeTree by id, newest version wins),
// under an id of its own beside the configuration's `crm` row: a table that the
// SQL endpoint keeps to the collector, and that every collector of an
// installation shares.
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { str, toDateTimeString } from '../../clickhouse/sql.js';

const ROW_ID = 'visit_trigger_scan';

/** The stored position (unix seconds), or null before the first scan with rules. */
export async function readWatermark(ch: ClickHouseClient): Promise<number | null> {
  const [row] = await queryRows<{ body: string }>(ch, `SELECT body FROM crm_config WHERE id = ${str(ROW_ID)} ORDER BY version DESC LIMIT 1`);
  if (!row) return null;
  try {
    const at = (JSON.parse(row.body) as { at?: unknown }).at;
    return typeof at === 'number' && Number.isFinite(at) && at > 0 ? at : null;
  } catch {
    return null;
  }
}

export async function writeWatermark(ch: ClickHouseClient, at: number): Promise<void> {
  await ch.insert({
    table: 'crm_config',
    values: [{ id: ROW_ID, body: JSON.stringify({ at }), saved_at: toDateTimeString(at * 1000), version: Date.now() }],
    format: 'JSONEachRow',
  });
}
