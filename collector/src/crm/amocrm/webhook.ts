// amoCRM webhooks: an application/x-www-form-urlencoded body in PHP bracket
// notation, `{entity}[{action}][{index}][{field}]=…`, several entities and
// actions per POST. This module turns one body into Throughline's changes, or
// says why the body is not an amoCRM webhook. It checks everything before
// anything is stored: a bad body stores nothing.
import qs from 'qs';
import { emptyDeal, toUnixSeconds, type Changes, type ContactChange, type CrmField, type DealAction, type DealChange } from '../change.js';
import { amoOutcome } from '../funnel/mapping.js';
import { toMinor } from '../money.js';
import type { AmoApiLead } from './api.js';

/** Every entity amoCRM's webhooks carry; only leads and contacts feed Throughline. */
const ENTITIES = new Set(['leads', 'contacts', 'companies', 'customers', 'unsorted', 'task', 'catalogs', 'note_lead', 'note_contact', 'note_company', 'note_customer', 'talk', 'message']);
const LEAD_ACTIONS = new Set<DealAction>(['add', 'update', 'status', 'delete', 'restore']);

export type AmoBody = { changes: Changes; account: { id: string; subdomain: string } };
export type AmoBodyError = { reason: string };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** qs gives arrays for dense indices and objects for sparse ones; both become a list. */
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : isObj(x) ? Object.values(x) : []);
const text = (x: unknown): string => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : '');

export function parseAmoBody(body: string): AmoBody | AmoBodyError {
  if (!body || body.trimStart().startsWith('{') || body.trimStart().startsWith('<')) return { reason: 'expected an application/x-www-form-urlencoded amoCRM webhook body' };
  const parsed = qs.parse(body, { depth: 8, arrayLimit: 1000, parameterLimit: 20_000, allowPrototypes: false }) as Obj;
  const entities = Object.keys(parsed).filter((k) => ENTITIES.has(k));
  if (entities.length === 0) return { reason: `no amoCRM entity (${[...ENTITIES].slice(0, 6).join(', ')}, …) in the body` };
  const account = isObj(parsed.account) ? parsed.account : {};
  const accountId = text(account.id);
  const subdomain = text(account.subdomain);
  if (!accountId && !subdomain) return { reason: 'no account[id] or account[subdomain] in the body' };

  const changes: Changes = { deals: [], contacts: [], ignored: 0 };
  for (const entity of entities) {
    const actions = parsed[entity];
    if (!isObj(actions)) return { reason: `${entity} is not a list of actions` };
    for (const [action, items] of Object.entries(actions)) {
      for (const [i, item] of list(items).entries()) {
        const where = `${entity}[${action}][${i}]`;
        if (!isObj(item) || !/^\d+$/.test(text(item.id))) return { reason: `${where} has no numeric id` };
        if (entity === 'leads') {
          if (!LEAD_ACTIONS.has(action as DealAction)) return { reason: `${where}: unknown lead action "${action}"` };
          const lead = leadChange(action as DealAction, item);
          if (typeof lead === 'string') return { reason: `${where}: ${lead}` };
          changes.deals.push(lead);
        } else if (entity === 'contacts' && (action === 'add' || action === 'update') && text(item.type) !== 'company') {
          changes.contacts.push(contactChange(item));
        } else {
          changes.ignored += 1;
        }
      }
    }
  }
  return { changes, account: { id: accountId, subdomain } };
}

function customFields(raw: unknown): CrmField[] {
  return list(raw).flatMap((cf) => {
    if (!isObj(cf)) return [];
    // A date field may carry its value without a [value] key: values[0]=1542067200.
    const values = list(cf.values).map((v) => (isObj(v) ? text(v.value) : text(v))).filter((v) => v !== '');
    return [{ id: text(cf.id), name: text(cf.name), code: text(cf.code), value: values.join(', ') }];
  });
}

function leadChange(action: DealAction, item: Obj): DealChange | string {
  const deal = emptyDeal(text(item.id), action);
  const hasState = item.status_id !== undefined;
  if (action === 'delete' || (action === 'restore' && !hasState)) {
    deal.complete = false;
    deal.changedAt = toUnixSeconds(item.last_modified);
    return deal;
  }
  if (!hasState) return 'no status_id';
  if (item.price !== undefined && item.price !== '' && toMinor(item.price) === null) return `price "${text(item.price)}" is not a number`;
  deal.changedAt = toUnixSeconds(item.last_modified) ?? toUnixSeconds(item.date_create);
  deal.createdAt = toUnixSeconds(item.date_create);
  deal.name = text(item.name);
  deal.statusId = text(item.status_id);
  deal.pipelineId = text(item.pipeline_id);
  deal.amountMinor = toMinor(item.price) ?? 0;
  deal.vendorOutcome = amoOutcome(deal.statusId);
  deal.fields = customFields(item.custom_fields);
  const tags = list(item.tags).map((t) => (isObj(t) ? text(t.name) : '')).filter(Boolean);
  if (tags.length) deal.fields.push({ id: '', name: 'tags', code: '', value: tags.join(', ') });
  return deal;
}

const PHONE = /phone|телефон/i;
const EMAIL = /e-?mail|почта/i;

function contactChange(item: Obj): ContactChange {
  const fields = list(item.custom_fields).filter(isObj);
  const valuesOf = (test: RegExp, code: string) =>
    fields
      .filter((f) => text(f.code) === code || test.test(text(f.name)))
      .flatMap((f) => list(f.values).map((v) => (isObj(v) ? text(v.value) : text(v))))
      .filter(Boolean);
  // linked_leads_id comes as [id]=id pairs.
  const linked = isObj(item.linked_leads_id) || Array.isArray(item.linked_leads_id) ? item.linked_leads_id : {};
  const dealIds = [...Object.keys(linked as Obj), ...list(linked).map(text)].filter((x) => /^\d+$/.test(x) && x !== '0');
  return { contactId: text(item.id), emails: valuesOf(EMAIL, 'EMAIL'), phones: valuesOf(PHONE, 'PHONE'), dealIds: [...new Set(dealIds)] };
}

/** A lead read through API v4, in the same shape as a webhook change. */
export function leadFromApi(lead: AmoApiLead): DealChange {
  const deal = emptyDeal(String(lead.id), 'update');
  deal.changedAt = toUnixSeconds(lead.updated_at);
  deal.createdAt = toUnixSeconds(lead.created_at);
  deal.closedAt = toUnixSeconds(lead.closed_at);
  deal.name = lead.name ?? '';
  deal.statusId = lead.status_id === undefined ? '' : String(lead.status_id);
  deal.pipelineId = lead.pipeline_id === undefined ? '' : String(lead.pipeline_id);
  deal.amountMinor = toMinor(lead.price ?? 0) ?? 0;
  deal.vendorOutcome = amoOutcome(deal.statusId);
  deal.deleted = lead.is_deleted === true;
  deal.fields = (lead.custom_fields_values ?? []).map((f) => ({
    id: String(f.field_id),
    name: f.field_name ?? '',
    code: f.field_code ?? '',
    value: f.values.map((v) => text(v.value)).filter(Boolean).join(', '),
  }));
  deal.contactIds = (lead._embedded?.contacts ?? []).map((c) => String(c.id));
  return deal;
}
