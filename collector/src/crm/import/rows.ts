// Deals from any other CRM: a JSON deals API and a CSV upload, one declared
// shape for both. `updated_at` orders the versions, so sending the same export
// twice changes nothing and an older export cannot overwrite a newer one. Each
// deal of a body is read alone: one that does not fit is refused with its
// reason, named by its id or its place (`deals[3]`, `line 4`), and the others
// are used.
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { emptyDeal, toUnixSeconds, type DealChange, type Refusal } from '../change.js';
import { recordName } from '../deals/check.js';
import { toMinor } from '../money.js';

const when = z.union([z.number(), z.string()]).refine((v) => Number.isFinite(toUnixSeconds(v)), 'a unix time or an ISO 8601 date');
const amount = z.union([z.number(), z.string()]).refine((v) => toMinor(v) !== null, 'a decimal amount such as 1500.50');

export const importDealSchema = z
  .object({
    id: z.union([z.string().min(1).max(100), z.number().int()]).transform(String),
    name: z.string().max(1000).default(''),
    pipeline: z.string().max(200).default(''),
    status: z.string().min(1).max(200),
    amount: amount.default(0),
    currency: z.string().regex(/^[A-Z]{3}$/).optional(),
    created_at: when.optional(),
    updated_at: when,
    closed_at: when.optional(),
    /** Won or lost in the CRM's own terms, for statuses the mapping does not name. */
    outcome: z.enum(['won', 'lost', 'open']).default('open'),
    deleted: z.union([z.boolean(), z.enum(['0', '1', 'true', 'false', ''])]).default(false),
    emails: z.array(z.string().max(320)).default([]),
    phones: z.array(z.string().max(64)).default([]),
    contact_ids: z.array(z.string().max(100)).default([]),
    fields: z.record(z.string().max(200), z.union([z.string().max(10_000), z.number()])).default({}),
  })
  .strict();

/** The body as a whole; its deals are read one by one (dealsFromBody). */
export const importBodySchema = z.object({ deals: z.array(z.unknown()).min(1).max(10_000) }).strict();

export type ImportDeal = z.output<typeof importDealSchema>;

/** The changes of a JSON or CSV body and its refused deals; an error when the body itself is not one. */
export function dealsFromBody(body: unknown, csv: boolean): { deals: DealChange[]; refused: Refusal[] } | { error: string } {
  const parsed = importBodySchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ') };
  const deals: DealChange[] = [];
  const refused: Refusal[] = [];
  parsed.data.deals.forEach((raw, i) => {
    const at = csv ? `line ${i + 2}` : `deals[${i}]`;
    const one = importDealSchema.safeParse(raw);
    if (one.success) return void deals.push({ ...dealFromImport(one.data), at });
    const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    const reason = one.error.issues.map((x) => `${x.path.join('.') || '(record)'}: ${x.message}`).join('; ');
    refused.push({ record: recordName(typeof id === 'number' ? String(id) : id, at), reason });
  });
  return { deals, refused };
}

export function dealFromImport(d: ImportDeal): DealChange {
  const deleted = d.deleted === true || d.deleted === '1' || d.deleted === 'true';
  const deal = emptyDeal(d.id, deleted ? 'delete' : 'update');
  deal.changedAt = toUnixSeconds(d.updated_at);
  deal.createdAt = d.created_at === undefined ? null : toUnixSeconds(d.created_at);
  deal.closedAt = d.closed_at === undefined ? null : toUnixSeconds(d.closed_at);
  deal.name = d.name;
  deal.pipelineId = d.pipeline;
  deal.statusId = d.status;
  deal.amountMinor = toMinor(d.amount) ?? 0;
  deal.currency = d.currency ?? '';
  deal.vendorOutcome = d.outcome;
  deal.emails = d.emails;
  deal.phones = d.phones;
  deal.contactIds = d.contact_ids;
  deal.fields = Object.entries(d.fields).map(([k, v]) => ({ id: '', name: k, code: '', value: String(v) }));
  return deal;
}

/** The CSV columns with a meaning of their own; every other column is a custom field. */
export const CSV_COLUMNS = ['id', 'name', 'pipeline', 'status', 'amount', 'currency', 'created_at', 'updated_at', 'closed_at', 'outcome', 'deleted', 'email', 'phone', 'contact_id'] as const;

/** CSV text (header row first, `,` or `;`) → the JSON body shape, or an error naming the line. */
export function csvToBody(csv: string): { deals: unknown[] } | { error: string } {
  let records: Record<string, string>[];
  try {
    const firstLine = csv.slice(0, csv.indexOf('\n') === -1 ? undefined : csv.indexOf('\n'));
    const delimiter = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
    records = parseCsv(csv, { columns: (h: string[]) => h.map((c) => c.trim()), skip_empty_lines: true, bom: true, delimiter, trim: true });
  } catch (err) {
    return { error: `CSV does not parse: ${(err as Error).message}` };
  }
  const deals = records.map((r) => {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) if (!(CSV_COLUMNS as readonly string[]).includes(k) && v !== '') fields[k] = v;
    const opt = (k: string) => (r[k] === undefined || r[k] === '' ? undefined : r[k]);
    return {
      id: r.id,
      name: r.name ?? '',
      pipeline: r.pipeline ?? '',
      status: r.status,
      amount: opt('amount') ?? 0,
      currency: opt('currency'),
      created_at: opt('created_at'),
      updated_at: r.updated_at,
      closed_at: opt('closed_at'),
      outcome: opt('outcome') ?? 'open',
      deleted: r.deleted ?? false,
      emails: opt('email') ? [r.email!] : [],
      phones: opt('phone') ? [r.phone!] : [],
      contact_ids: opt('contact_id') ? [r.contact_id!] : [],
      fields,
    };
  });
  return { deals };
}
