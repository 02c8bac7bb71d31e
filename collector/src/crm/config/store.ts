// Where the CRM configuration lives: a JSON file (CRM_CONFIG) and, once replaced
// through the admin API, a row in ClickHouse (crm_config). At start the newer of
// the two is used. Whenever a configuration is put in force, Throughline's
// funnel is written to funnel_stages for the reports.
import { readFile, stat } from 'node:fs/promises';
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { num, toDateTimeString } from '../../clickhouse/sql.js';
import { CrmConfigError, loadCrmConfig, type LoadedConfig } from './schema.js';

const ROW_ID = 'crm';

export async function readConfigFile(path: string): Promise<{ config: LoadedConfig; mtime: number }> {
  let text: string;
  let mtime: number;
  try {
    text = await readFile(path, 'utf8');
    mtime = (await stat(path)).mtimeMs;
  } catch (err) {
    throw new CrmConfigError(`CRM_CONFIG ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CrmConfigError(`CRM_CONFIG ${path}: not JSON (${(err as Error).message})`);
  }
  try {
    return { config: loadCrmConfig(json), mtime };
  } catch (err) {
    throw new CrmConfigError(`CRM_CONFIG ${path}:\n${(err as Error).message}`);
  }
}

/** The configuration last saved through the API, with when it was saved (ms); null when none. */
export async function readStoredConfig(ch: ClickHouseClient): Promise<{ config: LoadedConfig; savedAt: number } | null> {
  const rs = await ch.query({
    query: `SELECT body, toString(version) AS version FROM crm_config WHERE id = '${ROW_ID}' ORDER BY version DESC LIMIT 1`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ body: string; version: string }>();
  if (!row) return null;
  return { config: loadCrmConfig(JSON.parse(row.body)), savedAt: Number(row.version) };
}

export async function saveConfig(ch: ClickHouseClient, config: LoadedConfig, at = Date.now()): Promise<void> {
  await ch.insert({
    table: 'crm_config',
    values: [{ id: ROW_ID, body: JSON.stringify(config.raw), saved_at: toDateTimeString(at), version: at }],
    format: 'JSONEachRow',
  });
}

/**
 * Writes the funnel with a new version and removes older versions' rows, so a
 * stage taken out of the funnel disappears. Readers take the rows of the highest
 * version (`WHERE version = (SELECT max(version) FROM funnel_stages)`), which is
 * right even before the delete has run.
 */
export async function writeFunnelStages(ch: ClickHouseClient, config: LoadedConfig, version = Date.now()): Promise<void> {
  const rows = config.funnel.stages.map((s) => ({ stage: s.name, stage_index: s.index, marker: s.marker ?? '', version }));
  if (rows.length) await ch.insert({ table: 'funnel_stages', values: rows, format: 'JSONEachRow' });
  await ch.command({ query: `ALTER TABLE funnel_stages DELETE WHERE version < ${num(version)}` });
}
