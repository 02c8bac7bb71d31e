// A Zoho CRM Deals record (from a workflow webhook or read through the API) in
// Throughline's change shape. Standard fields are read by their API names; every
// other scalar field is a custom field.
import { emptyDeal, toUnixSeconds, type CrmField, type DealAction, type DealChange } from '../change.js';
import { zohoOutcome } from '../funnel/mapping.js';
import { dealAmount } from '../money.js';

const STANDARD = new Set(['id', 'Deal_Name', 'Stage', 'Amount', 'Currency', 'Closing_Date', 'Pipeline', 'Created_Time', 'Modified_Time', 'Contact_Name', 'forecast_type', '$approval', '$state']);

const text = (x: unknown): string => (typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : '');
/** Lookups arrive as `{name, id}`. */
const nameOf = (x: unknown): string => (typeof x === 'object' && x !== null ? text((x as { name?: unknown }).name) : text(x));

/** What makes a record not a Zoho deal at all; the deal check judges the rest of it. */
export function zohoRecordError(record: Record<string, unknown>): string | null {
  if (!/^\d{1,20}$/.test(text(record.id))) return 'no numeric id';
  if (typeof record.Stage !== 'string' || !record.Stage) return 'no Stage';
  return null;
}

/** `forecastType` comes from the Stage pick list when known, else from the record itself. */
export function dealFromZoho(record: Record<string, unknown>, action: DealAction, forecastType?: string): DealChange {
  const deal = emptyDeal(text(record.id), action);
  deal.changedAt = toUnixSeconds(record.Modified_Time) ?? toUnixSeconds(record.Created_Time);
  deal.createdAt = toUnixSeconds(record.Created_Time);
  deal.name = text(record.Deal_Name);
  deal.statusId = text(record.Stage);
  deal.pipelineId = nameOf(record.Pipeline);
  deal.amountMinor = dealAmount(record.Amount);
  deal.currency = /^[A-Z]{3}$/.test(text(record.Currency)) ? text(record.Currency) : '';
  deal.vendorOutcome = zohoOutcome(forecastType ?? text(record.forecast_type));
  if (deal.vendorOutcome !== 'open') deal.closedAt = toUnixSeconds(record.Closing_Date);
  const contact = record.Contact_Name;
  if (typeof contact === 'object' && contact !== null && /^\d+$/.test(text((contact as { id?: unknown }).id))) {
    deal.contactIds = [text((contact as { id?: unknown }).id)];
  }
  deal.fields = Object.entries(record)
    .filter(([k, v]) => !STANDARD.has(k) && (typeof v !== 'object' || v === null || 'name' in (v as object)))
    .map(([k, v]): CrmField => ({ id: k, name: k, code: '', value: nameOf(v) }))
    .filter((f) => f.value !== '');
  return deal;
}
