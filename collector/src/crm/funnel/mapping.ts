// Which funnel stage a CRM status is in. The mapping is per source and pipeline
// (`*` stands for every pipeline not listed); a status may be named by id or by
// name. A status the mapping does not know falls back to what the vendor says
// of it — amoCRM's 142 / 143, Zoho's forecast type — so an unmapped pipeline
// still counts its won and lost deals on the Won and Lost stages.
import type { Funnel, SourceConfig, Stage } from '../config/schema.js';

export type StageTarget = { stage: Stage | null; vendorOutcome: 'won' | 'lost' | 'open' };

export function mapStatus(
  funnel: Funnel,
  source: Pick<SourceConfig, 'pipelines'>,
  pipelineId: string,
  statusId: string,
  vendorOutcome: 'won' | 'lost' | 'open',
): StageTarget {
  // Own keys only: a CRM pipeline or status named `constructor` is looked up, not Object's.
  const own = <T>(o: Record<string, T> | undefined, k: string): T | undefined => (o && Object.hasOwn(o, k) ? o[k] : undefined);
  const named = own(own(source.pipelines, pipelineId), statusId) ?? own(own(source.pipelines, '*'), statusId);
  if (named !== undefined) return { stage: funnel.byName.get(named) ?? null, vendorOutcome };
  if (vendorOutcome === 'won' || vendorOutcome === 'lost') {
    return { stage: funnel.byMarker.get(vendorOutcome) ?? null, vendorOutcome };
  }
  return { stage: null, vendorOutcome };
}

/** amoCRM: 142 is won and 143 lost in every pipeline. */
export function amoOutcome(statusId: string): 'won' | 'lost' | 'open' {
  return statusId === '142' ? 'won' : statusId === '143' ? 'lost' : 'open';
}

/** Zoho: the stage's forecast type. */
export function zohoOutcome(forecastType: string | undefined): 'won' | 'lost' | 'open' {
  const t = (forecastType ?? '').toLowerCase();
  return t === 'closed won' ? 'won' : t === 'closed lost' ? 'lost' : 'open';
}
