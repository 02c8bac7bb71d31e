// Where the CRM configuration lives: a JSON file (CRM_CONFIG) and, once replaced
// through the admin API, a row in ClickHouse (crm_config). At start the newer of
// the two is used. Whenever a configuration is put in force, Throughline's
// funnel is written to funnel_stages for the reports. A stored configuration
// that cannot be applied (one saved before it was checked in full) is passed
// over for the newest one that can, so it never stops a start.
import { readFile, stat } from 'node:fs/promises';
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { num, toDateTimeString } from '../../clickhouse/sql.js';
import { deleteWhere } from '../../clickhouse/cluster.js';
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

/** How many saved configurations a start looks back through for one it can apply. */
const LOOK_BACK = 20;

export type StoredConfig = {
  /** The newest saved configuration that can be applied, with when it was saved (ms); null when none. */
  stored: { config: LoadedConfig; savedAt: number } | null;
  /** Newer saved ones that cannot be applied, with why. */
  passedOver: { savedAt: number; reason: string }[];
};

export async function readStoredConfig(ch: ClickHouseClient): Promise<StoredConfig> {
  const rs = await ch.query({
    query: `SELECT body, toString(version) AS version FROM crm_config WHERE id = '${ROW_ID}' ORDER BY version DESC LIMIT ${LOOK_BACK}`,
    format: 'JSONEachRow',
  });
  const passedOver: StoredConfig['passedOver'] = [];
  for (const row of await rs.json<{ body: string; version: string }>()) {
    const savedAt = Number(row.version);
    try {
      return { stored: { config: loadCrmConfig(JSON.parse(row.body)), savedAt }, passedOver };
    } catch (err) {
      passedOver.push({ savedAt, reason: (err as Error).message });
    }
  }
  return { stored: null, passedOver };
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
  await deleteWhere(ch, 'funnel_stages', `version < ${num(version)}`);
}
