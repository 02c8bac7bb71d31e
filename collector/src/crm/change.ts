// What every CRM connector turns its payloads into: one shape for a change of a
// deal and one for a change of a contact. Everything downstream (filters, funnel,
// versions, identity links) works on these and knows nothing of the vendor.

/** A CRM field as the vendor names it: by id, by name and (amoCRM) by code. */
export type CrmField = { id: string; name: string; code: string; value: string };

export type DealAction = 'add' | 'update' | 'status' | 'restore' | 'delete';

export type DealChange = {
  dealId: string;
  /** Where the record sits in its delivery (`leads[add][1]`, `line 3`): names it when its id cannot. */
  at?: string;
  action: DealAction;
  /** When the CRM says the change happened (unix seconds); null when the payload does not say. */
  changedAt: number | null;
  /** False for a delete that carries nothing but the id: the rest is read back. */
  complete: boolean;
  deleted: boolean;
  createdAt: number | null;
  closedAt: number | null;
  name: string;
  pipelineId: string;
  statusId: string;
  /**
   * The status (and pipeline, when it changed) the CRM says the deal left in
   * this change (amoCRM's old_status_id, Zoho's previous stage): the stage it
   * was lost from when Throughline never saw it in a stage. Absent when unknown.
   */
  previousStatusId?: string;
  previousPipelineId?: string;
  amountMinor: number;
  currency: string;
  /** What the vendor itself says of the status, when unmapped: won / lost / open. */
  vendorOutcome: 'won' | 'lost' | 'open';
  fields: CrmField[];
  contactIds: string[];
  emails: string[];
  phones: string[];
};

export type ContactChange = {
  contactId: string;
  at?: string;
  emails: string[];
  phones: string[];
  dealIds: string[];
};

/** A record of a delivery that was not used (refused) or used without a part of it (a warning). */
export type Refusal = { record: string; reason: string };

export type Changes = { deals: DealChange[]; contacts: ContactChange[]; ignored: number; refused: Refusal[] };

export function emptyDeal(dealId: string, action: DealAction): DealChange {
  return {
    dealId,
    action,
    changedAt: null,
    complete: true,
    deleted: action === 'delete',
    createdAt: null,
    closedAt: null,
    name: '',
    pipelineId: '',
    statusId: '',
    amountMinor: 0,
    currency: '',
    vendorOutcome: 'open',
    fields: [],
    contactIds: [],
    emails: [],
    phones: [],
  };
}

/**
 * Unix seconds of an ISO date or a unix-seconds (or milliseconds) number/string.
 * null when no time is given (absent, empty, 0: amoCRM's "not set"); NaN when the
 * value given is not a time, so the deal check refuses it instead of the change
 * silently taking the time of its arrival. Times before 1970 stay negative for
 * the same reason.
 */
export function toUnixSeconds(raw: unknown): number | null {
  if (raw === null || raw === undefined || raw === '' || raw === 0 || raw === '0') return null;
  if (typeof raw === 'number' || (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw))) {
    const n = Number(raw);
    if (!Number.isFinite(n)) return NaN;
    return Math.abs(n) > 1e11 ? Math.floor(n / 1000) : Math.floor(n);
  }
  if (typeof raw !== 'string') return NaN;
  return Math.floor(Date.parse(raw) / 1000);
}
