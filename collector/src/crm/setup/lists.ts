// What a source's CRM says of its statuses, asked through the API clients the
// collector already keeps (their OAuth tokens refreshed as for deliveries):
// amoCRM's pipelines, Zoho's Stage and Lead_Status pick lists. A source without
// API access has nothing to ask; a failed read is said, with why, and the page
// falls back on the statuses seen in deliveries.
import type { SourceConfig } from '../config/schema.js';
import { amoOutcome, zohoOutcome } from '../funnel/mapping.js';
import type { Crm } from '../service.js';
import type { PickListValue } from '../zoho/api.js';
import type { VendorLists, VendorStatus } from './statuses.js';

export type SourceLists = {
  /** The source has API credentials. */
  api: boolean;
  /** What the API gave; null when nothing could be read. */
  vendor: VendorLists | null;
  /** Why the API could not be read (or read in full); null when it was. */
  problem: string | null;
};

const closes = (o: 'won' | 'lost' | 'open') => (o === 'open' ? null : o);

/** A failure as the page says it: the API's own words, or the network's. */
function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}

/** A Zoho pick-list value as a status: keyed as records carry it (the actual value), named as Zoho shows it. */
function pickListStatus(v: PickListValue): VendorStatus | null {
  const id = v.actual_value || v.display_value;
  return id ? { id, name: v.display_value ?? id, closes: closes(zohoOutcome(v.forecast_type)) } : null;
}

export async function sourceLists(crm: Crm, id: string, src: SourceConfig): Promise<SourceLists> {
  if (src.kind === 'amocrm') {
    const api = crm.amoApi(id, src);
    if (!api) return { api: false, vendor: null, problem: null };
    try {
      const pipelines = await api.pipelines();
      return {
        api: true,
        vendor: { pipelines: pipelines.map((p) => ({ ...p, statuses: p.statuses.map((s) => ({ ...s, closes: closes(amoOutcome(s.id)) })) })) },
        problem: null,
      };
    } catch (err) {
      return { api: true, vendor: null, problem: reason(err) };
    }
  }
  if (src.kind === 'zoho') {
    const api = crm.zohoApi(id, src);
    if (!api) return { api: false, vendor: null, problem: null };
    const vendor: VendorLists = {};
    try {
      vendor.everyPipeline = (await api.pickList('Deals', 'Stage')).map(pickListStatus).filter((s) => s !== null);
      vendor.leadStatuses = (await api.pickList('Leads', 'Lead_Status')).map(pickListStatus).filter((s) => s !== null);
      return { api: true, vendor, problem: null };
    } catch (err) {
      return { api: true, vendor: vendor.everyPipeline ? vendor : null, problem: reason(err) };
    }
  }
  return { api: false, vendor: null, problem: null };
}
