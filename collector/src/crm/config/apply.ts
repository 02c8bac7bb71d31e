// Putting a new CRM configuration in force, the one way every face does it (the
// admin PUT /crm/config and the setup page's save): checked in full, stored, in
// force at once (Crm.replace); then the statuses seen in deliveries that it
// still maps to no stage are warned of, in the log and to the caller.
import type { Logger } from 'pino';
import type { Crm } from '../service.js';
import type { CrmStatus } from '../status/store.js';
import { CrmConfigError, type LoadedConfig } from './schema.js';

export type Applied =
  | { ok: true; config: LoadedConfig; warnings: string[] }
  /** Refused: nothing was stored and the configuration in force stays; `problems` each name their path. */
  | { ok: false; message: string; problems: string[] };

export async function applyConfig(crm: Crm, status: CrmStatus, log: Logger, value: unknown): Promise<Applied> {
  let next: LoadedConfig;
  try {
    next = await crm.replace(value);
  } catch (err) {
    if (err instanceof CrmConfigError) return { ok: false, message: err.message, problems: err.message.split('\n').filter(Boolean) };
    throw err;
  }
  // Without Redis the check has nothing to go by: the configuration is in force all the same.
  const warnings = await status.configWarnings(next).catch(() => []);
  for (const w of warnings) log.warn({ warning: w }, 'CRM configuration: a status seen in deliveries maps to no stage');
  return { ok: true, config: next, warnings };
}
