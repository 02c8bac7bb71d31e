// Whether a Zoho deal's stage closes it. Zoho says so in the Stage pick list's
// forecast types (`Open`, `Closed Won`, `Closed Lost`), which only the API can
// read: a record may carry its own `forecast_type`, an API source reads the
// pick list (again, rate-limited, for a stage added since), and a webhook-only
// source has nothing but the stage's name — Zoho's own `Closed Won` and
// `Closed Lost` say it, any other closing stage must be mapped.
import type { Funnel, ZohoSource } from '../config/schema.js';
import { mapStatus } from '../funnel/mapping.js';
import type { ZohoApi } from './api.js';

export type StageReading = {
  /** The forecast type to read the record with; undefined when none is known. */
  forecastType: string | undefined;
  /** Said in the delivery's reply when the stage is neither mapped nor known to close or stay open. */
  warning: string | null;
};

export async function readStage(api: ZohoApi | null, source: ZohoSource, funnel: Funnel, record: Record<string, unknown>): Promise<StageReading> {
  const stage = String(record.Stage);
  if (typeof record.forecast_type === 'string') return { forecastType: record.forecast_type, warning: null };
  const pipeline = typeof record.Pipeline === 'object' && record.Pipeline !== null ? String((record.Pipeline as { name?: unknown }).name ?? '') : String(record.Pipeline ?? '');
  const mapped = mapStatus(funnel, source, pipeline, stage, 'open').stage !== null;
  if (api) {
    const forecastType = await api.stageForecast(stage);
    const warning = forecastType || mapped ? null : `Stage "${stage}" is not in Zoho's Stage list (read again) nor in the mapping: stored as an open deal`;
    return { forecastType, warning };
  }
  // Without the API, Zoho's own stage names say it.
  const closing = /^closed (won|lost)$/i.test(stage);
  const warning =
    closing || mapped
      ? null
      : `Stage "${stage}" is not mapped: a source without API access cannot read Zoho's forecast types, so map its closing stages under pipelines; stored as an open deal`;
  return { forecastType: closing ? stage : undefined, warning };
}
