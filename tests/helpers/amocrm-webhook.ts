// amoCRM webhook bodies as amoCRM posts them to POST /crm/amocrm/<source>/<secret>:
// form-encoded, bracket notation (`leads[status][0][id]=…`), custom fields as
// `custom_fields][j][id|name]` and `[values][0][value]`.

export type AmoLead = {
  id: string;
  status: string;
  pipeline: string;
  /** Sent with status changes: the status the lead left. */
  oldStatus?: string;
  price?: string | number;
  /** Unix seconds; by default a minute ago. */
  modified?: number;
  /** Unix seconds; by default 1700000000. */
  created?: number;
  name?: string;
  account?: string;
  /** Custom fields: [id, name, value]. */
  fields?: [string, string, string][];
};

/** One lead of a webhook body: `leads[<action>][<i>][…]` pairs. */
export function amoLeadPairs(action: string, i: number, l: AmoLead): [string, string][] {
  const p = `leads[${action}][${i}]`;
  const pairs: [string, string][] = [
    [`${p}[id]`, l.id],
    [`${p}[name]`, l.name ?? `Deal ${l.id}`],
    [`${p}[status_id]`, l.status],
    ...(l.oldStatus === undefined ? [] : ([[`${p}[old_status_id]`, l.oldStatus]] as [string, string][])),
    [`${p}[price]`, String(l.price ?? 15000)],
    [`${p}[last_modified]`, String(l.modified ?? Math.floor(Date.now() / 1000) - 60)],
    [`${p}[date_create]`, String(l.created ?? 1_700_000_000)],
    [`${p}[pipeline_id]`, l.pipeline],
    [`${p}[account_id]`, l.account ?? '17769199'],
  ];
  (l.fields ?? []).forEach(([id, name, value], j) => {
    pairs.push([`${p}[custom_fields][${j}][id]`, id], [`${p}[custom_fields][${j}][name]`, name], [`${p}[custom_fields][${j}][values][0][value]`, value]);
  });
  return pairs;
}

/** A whole webhook body: the account, then the leads' pairs. */
export function amoWebhookBody(account: { id: string; subdomain: string }, ...leads: [string, string][][]): string {
  return new URLSearchParams([['account[subdomain]', account.subdomain], ['account[id]', account.id], ...leads.flat()]).toString();
}
