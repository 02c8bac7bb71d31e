// amoCRM webhooks: an application/x-www-form-urlencoded body in PHP bracket
// notation, `{entity}[{action}][{index}][{field}]=…`, several entities and
// actions per POST. This module turns one body into Throughline's changes, or
// says why the body is not an amoCRM webhook. A body that is not one stores
// nothing; a lead or contact in it that cannot be read is refused alone, named by
// its id or its place (`leads[add][1]`), and the others are used.
import qs from 'qs';
import { emptyDeal, toUnixSeconds, type Changes, type ContactChange, type CrmField, type DealAction, type DealChange } from '../change.js';
import { amoOutcome } from '../funnel/mapping.js';
import { dealAmount } from '../money.js';
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

  const changes: Changes = { deals: [], contacts: [], ignored: 0, refused: [] };
  for (const entity of entities) {
    const actions = parsed[entity];
    if (!isObj(actions)) {
      changes.refused.push({ record: entity, reason: `${entity} is not a list of actions` });
      continue;
    }
    for (const [action, items] of Object.entries(actions)) {
      for (const [i, item] of list(items).entries()) {
        const where = `${entity}[${action}][${i}]`;
        const used = entity === 'leads' || (entity === 'contacts' && (action === 'add' || action === 'update') && !(isObj(item) && text(item.type) === 'company'));
        if (!used) {
          changes.ignored += 1;
          continue;
        }
        const id = isObj(item) ? text(item.id) : '';
        if (!isObj(item) || !/^\d{1,20}$/.test(id)) {
          changes.refused.push({ record: where, reason: `${where} has no numeric id` });
        } else if (entity === 'contacts') {
          changes.contacts.push({ ...contactChange(item), at: where });
        } else {
          const lead = LEAD_ACTIONS.has(action as DealAction) ? leadChange(action as DealAction, item) : `unknown lead action "${action}"`;
          if (typeof lead === 'string') changes.refused.push({ record: id, reason: lead });
          else changes.deals.push({ ...lead, at: where });
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
  deal.changedAt = toUnixSeconds(item.last_modified) ?? toUnixSeconds(item.date_create);
  deal.createdAt = toUnixSeconds(item.date_create);
  deal.name = text(item.name);
  deal.statusId = text(item.status_id);
  deal.pipelineId = text(item.pipeline_id);
  // A status webhook names the status the lead left: the stage it was lost from, if Throughline never saw it.
  if (action === 'status' && text(item.old_status_id)) {
    deal.previousStatusId = text(item.old_status_id);
    deal.previousPipelineId = text(item.old_pipeline_id);
  }
  deal.amountMinor = dealAmount(item.price);
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

/**
 * A lead read through API v4, in the same shape as a webhook change. The answer
 * is read as untrusted JSON: a part of the wrong type reads as missing, and the
 * deal check judges the rest.
 */
export function leadFromApi(lead: AmoApiLead): DealChange {
  const raw = lead as unknown as Obj;
  const deal = emptyDeal(text(raw.id), 'update');
  deal.changedAt = toUnixSeconds(raw.updated_at);
  deal.createdAt = toUnixSeconds(raw.created_at);
  deal.closedAt = toUnixSeconds(raw.closed_at);
  deal.name = text(raw.name);
  deal.statusId = text(raw.status_id);
  deal.pipelineId = text(raw.pipeline_id);
  deal.amountMinor = dealAmount(raw.price);
  deal.vendorOutcome = amoOutcome(deal.statusId);
  deal.deleted = raw.is_deleted === true;
  deal.fields = list(raw.custom_fields_values)
    .filter(isObj)
    .map((f) => ({
      id: text(f.field_id),
      name: text(f.field_name),
      code: text(f.field_code),
      value: list(f.values)
        .map((v) => (isObj(v) ? text(v.value) : ''))
        .filter(Boolean)
        .join(', '),
    }));
  const embedded = isObj(raw._embedded) ? raw._embedded : {};
  deal.contactIds = list(embedded.contacts).map((c) => (isObj(c) ? text(c.id) : '')).filter(Boolean);
  return deal;
}
