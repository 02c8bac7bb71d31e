// The webhooks the demo's amoCRM stand-in sends, as amoCRM sends them:
// application/x-www-form-urlencoded, PHP bracket notation, the account first,
// then `leads[<action>][0][…]` with the lead's custom fields as
// `[custom_fields][i][id|name]` and `[values][0][value]` (README, "Connecting a
// CRM"; amoCRM's webhook documentation).
import { DEMO_AMO } from '../collector/src/sample/demo-crm.js';

export type AmoLead = {
  id: string;
  name: string;
  statusId: string;
  /** A status change names the status the lead left. */
  oldStatusId?: string;
  /** In whole units of money, as amoCRM's price. */
  price: string;
  /** Unix seconds. */
  created: number;
  modified: number;
  /** Custom fields by name: the form's fields, Throughline's hidden ones among them. */
  fields: Record<string, string>;
};

/** A custom field's id in the stand-in account: by the field's place, the same in every webhook of one lead. */
const FIELD_ID_BASE = 700_001;

/** The body of a webhook about one lead (`add`: a new lead; `status`: its status changed). */
export function amoWebhook(action: 'add' | 'status', lead: AmoLead): string {
  const p = `leads[${action}][0]`;
  const pairs: [string, string][] = [
    ['account[subdomain]', DEMO_AMO.account.subdomain],
    ['account[id]', DEMO_AMO.account.id],
    [`${p}[id]`, lead.id],
    [`${p}[name]`, lead.name],
    [`${p}[status_id]`, lead.statusId],
    ...(lead.oldStatusId ? ([[`${p}[old_status_id]`, lead.oldStatusId]] as [string, string][]) : []),
    [`${p}[price]`, lead.price],
    [`${p}[responsible_user_id]`, '8100001'],
    [`${p}[last_modified]`, String(lead.modified)],
    [`${p}[date_create]`, String(lead.created)],
    [`${p}[pipeline_id]`, DEMO_AMO.pipeline],
    [`${p}[account_id]`, DEMO_AMO.account.id],
  ];
  Object.entries(lead.fields).forEach(([name, value], i) => {
    const f = `${p}[custom_fields][${i}]`;
    pairs.push([`${f}[id]`, String(FIELD_ID_BASE + i)], [`${f}[name]`, name], [`${f}[values][0][value]`, value]);
  });
  return new URLSearchParams(pairs).toString();
}

/** A body as readable lines, `key=value` decoded, for the page that shows what was sent. */
export function readable(body: string): string {
  return [...new URLSearchParams(body)].map(([k, v]) => `${k}=${v}`).join('\n');
}
