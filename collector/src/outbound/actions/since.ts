// When each stage action came into force: an entry fires an action only when
// it was received after that (plan.ts), so adding an action (or a new webhook
// URL) never floods its receiver with the deals already in the stage.
//
// The time is read from where the configuration in force came from, the rule
// by which a start chooses it (crm/service.ts: the newer of the two):
//   - the saved configurations (crm_config: every PUT /crm/config and every
//     save of the setup page is a row, `version` its time in ms): the time of
//     the oldest save in the unbroken run of the newest saves that have the
//     action;
//   - the CRM_CONFIG file, when it is newer than every save: its modification
//     time, when it has the action.
// So the time survives restarts and is the same on every collector of a
// database. An action neither has (the configuration changed since) counts
// from when this process first saw it in force, and so does one this process
// saw in force before either says.
import { readFile, stat } from 'node:fs/promises';
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import type { LoadedConfig } from '../../crm/config/schema.js';
import { actionKey, GA4_EVENT, WEBHOOK, type Action } from './plan.js';

/** Saved configurations looked back through: an action older than all of them counts from the oldest. */
const LOOK_BACK = 50;

/** One saved configuration: when (unix seconds) and the keys of its actions. */
export type Saved = { at: number; keys: Set<string> };

/** The action keys of a saved configuration's JSON (a body that is not one has none). */
export function keysOfSaved(body: string): Set<string> {
  const keys = new Set<string>();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return keys;
  }
  const list = (value as { stageActions?: unknown } | null)?.stageActions;
  if (!Array.isArray(list)) return keys;
  for (const a of list as { stage?: unknown; ga4Event?: { name?: unknown }; webhook?: { url?: unknown } }[]) {
    if (typeof a?.stage !== 'string') continue;
    if (typeof a.ga4Event?.name === 'string') keys.add(actionKey(a.stage, GA4_EVENT, a.ga4Event.name));
    if (typeof a.webhook?.url === 'string') keys.add(actionKey(a.stage, WEBHOOK, a.webhook.url));
  }
  return keys;
}

/**
 * Each key's time. `saved` newest first; `file` the CRM_CONFIG file (null when
 * there is none), which is the one in force when it is newer than every save.
 */
export function sinceOf(keys: Iterable<string>, saved: Saved[], file: Saved | null, firstSeen: ReadonlyMap<string, number>): Map<string, number> {
  const fileInForce = file !== null && (saved.length === 0 || file.at >= saved[0]!.at);
  const out = new Map<string, number>();
  for (const key of keys) {
    let from: number | undefined;
    if (fileInForce) {
      if (file.keys.has(key)) from = file.at;
    } else {
      for (const s of saved) {
        if (!s.keys.has(key)) break;
        from = s.at;
      }
    }
    // In force here before that (a configuration changed twice): the earlier.
    const seen = firstSeen.get(key);
    const at = from === undefined ? seen : seen === undefined ? from : Math.min(from, seen);
    if (at !== undefined) out.set(key, at);
  }
  return out;
}

/** The CRM_CONFIG file as a saved configuration: its modification time and its actions; null when there is none to read. */
async function fileSaved(path: string | undefined): Promise<Saved | null> {
  if (!path) return null;
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { at: Math.floor(st.mtimeMs / 1000), keys: keysOfSaved(text) };
  } catch {
    return null;
  }
}

export class ActionClock {
  /** When this process first saw each action in force (unix seconds); forgotten when it leaves the configuration. */
  private readonly firstSeen = new Map<string, number>();
  private last: { config: LoadedConfig; since: Map<string, number> } | null = null;

  constructor(
    private readonly ch: ClickHouseClient,
    /** CRM_CONFIG, when set. */
    private readonly configPath: string | undefined,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The times of the actions of `config` (the configuration in force); read again only when another is put in force. */
  async since(config: LoadedConfig, actions: Action[]): Promise<Map<string, number>> {
    if (this.last?.config === config) return this.last.since;
    const now = Math.floor(this.nowMs() / 1000);
    const keys = new Set(actions.map((a) => a.key));
    for (const k of [...this.firstSeen.keys()]) if (!keys.has(k)) this.firstSeen.delete(k);
    for (const k of keys) if (!this.firstSeen.has(k)) this.firstSeen.set(k, now);
    const rows = keys.size
      ? await queryRows<{ body: string; version: string }>(
          this.ch,
          // The row id of the CRM configuration (crm/config/store.ts).
          `SELECT body, toString(version) AS version FROM crm_config WHERE id = 'crm' ORDER BY version DESC LIMIT ${LOOK_BACK}`,
        )
      : [];
    const saved = rows.map((r) => ({ at: Math.floor(Number(r.version) / 1000), keys: keysOfSaved(r.body) }));
    const since = sinceOf(keys, saved, keys.size ? await fileSaved(this.configPath) : null, this.firstSeen);
    this.last = { config, since };
    return since;
  }
}
