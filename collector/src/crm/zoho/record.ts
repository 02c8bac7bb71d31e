// Zoho CRM Deals and Leads records (from a workflow webhook or read through the
// API) in Throughline's change shape. Standard fields are read by their API
// names; every other scalar field is a custom field (the identity fields among
// them: visitor_id, ga_cid, utm_source…).
//
// Zoho keeps leads and deals in two modules. A lead is a funnel record of its
// own, stored as `lead-<id>` in the pipeline `Leads` with its Lead_Status as its
// status (mapped by the source's `leadStatuses`). A lead converted into a deal
// lives on as that deal: its record is stored as deleted (the person is counted
// once), and the conversion ties the deal to the lead's person, so the deal is
// attributed through every id the lead held.
import { emptyDeal, toUnixSeconds, type CrmField, type DealAction, type DealChange } from '../change.js';
import { zohoOutcome } from '../funnel/mapping.js';
import { dealAmount } from '../money.js';

/** The pipeline a lead is stored in; its statuses map through the source's `leadStatuses`. */
export const LEADS_PIPELINE = 'Leads';
/** A lead's record id as stored: Zoho's lead id, told apart from deal ids. */
export const leadDealId = (leadId: string) => `lead-${leadId}`;

const DEAL_STANDARD = ['id', 'Deal_Name', 'Stage', 'Amount', 'Currency', 'Closing_Date', 'Pipeline', 'Contact_Name', 'forecast_type'];
const LEAD_STANDARD = ['id', 'Lead_Status', 'First_Name', 'Last_Name', 'Full_Name', 'Company', 'Email', 'Secondary_Email', 'Phone', 'Mobile', '$converted', '$converted_detail'];
const COMMON = ['Created_Time', 'Modified_Time', '$approval', '$state'];
const DEAL_FIELDS = new Set([...DEAL_STANDARD, ...COMMON]);
const LEAD_FIELDS = new Set([...LEAD_STANDARD, ...COMMON]);

const RECORD_ID = /^\d{1,20}$/;
const text = (x: unknown): string => (typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : '');
/** Lookups arrive as `{name, id}`. */
const nameOf = (x: unknown): string => (typeof x === 'object' && x !== null ? text((x as { name?: unknown }).name) : text(x));
/** A lookup's id: `{name, id}` or the bare id. */
const idOf = (x: unknown): string => (typeof x === 'object' && x !== null ? text((x as { id?: unknown }).id) : text(x));

/** What makes a record not a Zoho deal at all; the deal check judges the rest of it. */
export function zohoRecordError(record: Record<string, unknown>): string | null {
  if (!RECORD_ID.test(text(record.id))) return 'no numeric id';
  if (typeof record.Stage !== 'string' || !record.Stage) return 'no Stage';
  return null;
}

/** Custom fields: every scalar (or lookup) that is not a standard field. */
function customFields(record: Record<string, unknown>, standard: Set<string>): CrmField[] {
  return Object.entries(record)
    .filter(([k, v]) => !standard.has(k) && (typeof v !== 'object' || v === null || 'name' in (v as object)))
    .map(([k, v]): CrmField => ({ id: k, name: k, code: '', value: nameOf(v) }))
    .filter((f) => f.value !== '');
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
  const contact = idOf(record.Contact_Name);
  if (/^\d+$/.test(contact)) deal.contactIds = [contact];
  deal.fields = customFields(record, DEAL_FIELDS);
  return deal;
}

/** A converted lead's successor: the deal it became and the id that names its person. */
export type Conversion = { dealId: string; personId: string };
export type ZohoLead = { change: DealChange; conversion: Conversion | null };

/**
 * A Leads record, or the reason it is none. A lead converted into a deal
 * (`$converted` with `$converted_detail.deal`) is stored as deleted and names
 * its person: the contact it became, or, when Zoho names none, the lead itself
 * (Zoho record ids are unique across modules, so the two cannot collide).
 */
export function leadFromZoho(record: Record<string, unknown>, action: DealAction): ZohoLead | { reason: string } {
  const leadId = text(record.id);
  if (!RECORD_ID.test(leadId)) return { reason: 'no numeric id' };
  const lead = emptyDeal(leadDealId(leadId), action);
  lead.changedAt = toUnixSeconds(record.Modified_Time) ?? toUnixSeconds(record.Created_Time);
  lead.createdAt = toUnixSeconds(record.Created_Time);
  const fullName = text(record.Full_Name) || [text(record.First_Name), text(record.Last_Name)].filter(Boolean).join(' ');
  lead.name = fullName || text(record.Company);
  lead.pipelineId = LEADS_PIPELINE;
  lead.statusId = text(record.Lead_Status);
  lead.emails = [text(record.Email), text(record.Secondary_Email)].filter(Boolean);
  lead.phones = [text(record.Phone), text(record.Mobile)].filter(Boolean);
  lead.fields = customFields(record, LEAD_FIELDS);

  const detail = record.$converted_detail;
  const converted = record.$converted === true || record.$converted === 'true';
  const dealId = converted && typeof detail === 'object' && detail !== null ? idOf((detail as { deal?: unknown }).deal) : '';
  if (!dealId) return { change: lead, conversion: null };
  if (!RECORD_ID.test(dealId)) return { reason: '$converted_detail.deal: not a record id' };
  const contactId = idOf((detail as { contact?: unknown }).contact);
  if (contactId && !RECORD_ID.test(contactId)) return { reason: '$converted_detail.contact: not a record id' };
  const personId = contactId || leadId;
  lead.deleted = true;
  lead.contactIds = [personId];
  return { change: lead, conversion: { dealId, personId } };
}
