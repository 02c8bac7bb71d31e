// The one check every deal change and contact passes before it is used, from
// whichever door it came (amoCRM webhook or API read, Zoho webhook or API read,
// JSON or CSV import). What identifies or orders a record (its ids, status,
// pipeline, times) and its amount refuse it when they are not what they claim:
// stored, they would mislead every report, and a time far ahead would freeze the
// deal for good, since every later change would look older. A broken optional
// part (the name, a custom field, an e-mail, a phone, the currency) is dropped
// and named in a warning; the record is kept.
import type { ContactChange, CrmField, DealChange } from '../change.js';
import { idProblem, textProblem } from '../text.js';

/** How far ahead of the server's clock a CRM's time may be: clocks drift and zones get mixed up, but not by more. */
export const MAX_AHEAD_SECONDS = 86_400;

const ID_MAX = 100;
/** Zoho names its stages and pipelines: they are ids here, but longer ones. */
const STATUS_MAX = 200;
const NAME_MAX = 1000;
const FIELD_NAME_MAX = 200;
const FIELD_VALUE_MAX = 10_000;
const EMAIL_MAX = 320;
const PHONE_MAX = 64;

export type Checked<T> = { ok: T; warnings: string[] } | { reason: string };

/** How a reply names a record: its id when that is a usable id, else where it sits in the delivery. */
export function recordName(id: unknown, at: string | undefined): string {
  return idProblem(id, ID_MAX) === null ? (id as string) : (at ?? '(unnamed)');
}

const named = (what: string, problem: string | null) => (problem === null ? null : `${what}: ${problem}`);

function timeProblem(what: string, t: number | null, now: number): string | null {
  if (t === null) return null;
  if (!Number.isFinite(t)) return `${what}: not a time`;
  if (t < 0) return `${what}: before 1970`;
  if (t > now + MAX_AHEAD_SECONDS) return `${what}: more than a day ahead of the server's clock`;
  return null;
}

function amountProblem(minor: number): string | null {
  if (!Number.isSafeInteger(minor)) return 'amount: not a decimal amount (or beyond what can be stored)';
  if (minor < 0) return 'amount: below zero';
  return null;
}

function fieldProblem(f: CrmField): string | null {
  return textProblem(f.id, FIELD_NAME_MAX) ?? textProblem(f.name, FIELD_NAME_MAX) ?? textProblem(f.code, FIELD_NAME_MAX) ?? textProblem(f.value, FIELD_VALUE_MAX);
}

/** Keeps the items that pass, saying of each one dropped why. */
function keep<T>(items: T[], problem: (x: T) => string | null, label: (x: T) => string, warnings: string[]): T[] {
  return items.filter((x) => {
    const p = problem(x);
    if (p) warnings.push(`${label(x)}: ${p}; dropped`);
    return p === null;
  });
}

export function checkDeal(d: DealChange, now: number): Checked<DealChange> {
  const problems = [
    named('id', idProblem(d.dealId, ID_MAX)),
    d.statusId === '' ? null : named('status', idProblem(d.statusId, STATUS_MAX)),
    d.pipelineId === '' ? null : named('pipeline', idProblem(d.pipelineId, STATUS_MAX)),
    timeProblem('changed at', d.changedAt, now),
    timeProblem('created at', d.createdAt, now),
    amountProblem(d.amountMinor),
    ...d.contactIds.map((c) => named('contact id', idProblem(c, ID_MAX))),
  ].filter((p): p is string => p !== null);
  if (problems.length) return { reason: problems.join('; ') };

  const warnings: string[] = [];
  // A closing date is a business date a person types (Zoho's Closing_Date), not
  // the time that orders the deal's versions: a wrong one must not cost a won
  // deal its revenue, so it gives way to the time of the change.
  const closedProblem = timeProblem('closed at', d.closedAt, now);
  if (closedProblem) warnings.push(`${closedProblem}; the time of the change is used`);
  const nameProblem = textProblem(d.name, NAME_MAX);
  if (nameProblem) warnings.push(`name: ${nameProblem}; dropped`);
  const currencyProblem = d.currency === '' || /^[A-Z]{3}$/.test(d.currency) ? null : 'not an ISO 4217 code';
  if (currencyProblem) warnings.push(`currency: ${currencyProblem}; the source's currency is used`);
  // Only a hint for a deal never seen in a stage: a broken one is dropped, the change kept.
  const previousProblem = d.previousStatusId ? (idProblem(d.previousStatusId, STATUS_MAX) ?? (d.previousPipelineId ? idProblem(d.previousPipelineId, STATUS_MAX) : null)) : null;
  if (previousProblem) warnings.push(`previous status: ${previousProblem}; dropped`);
  const fieldLabel = (f: CrmField) => `field "${textProblem(f.name, FIELD_NAME_MAX) === null && f.name ? f.name : textProblem(f.id, FIELD_NAME_MAX) === null ? f.id : '?'}"`;
  return {
    ok: {
      ...d,
      closedAt: closedProblem ? d.changedAt : d.closedAt,
      name: nameProblem ? '' : d.name,
      ...(previousProblem ? { previousStatusId: undefined, previousPipelineId: undefined } : {}),
      currency: currencyProblem ? '' : d.currency,
      fields: keep(d.fields, fieldProblem, fieldLabel, warnings),
      emails: keep(d.emails, (e) => textProblem(e, EMAIL_MAX), () => 'an e-mail', warnings),
      phones: keep(d.phones, (p) => textProblem(p, PHONE_MAX), () => 'a phone', warnings),
    },
    warnings,
  };
}

export function checkContact(c: ContactChange): Checked<ContactChange> {
  const problems = [named('id', idProblem(c.contactId, ID_MAX)), ...c.dealIds.map((d) => named('deal id', idProblem(d, ID_MAX)))].filter((p): p is string => p !== null);
  if (problems.length) return { reason: problems.join('; ') };
  const warnings: string[] = [];
  return {
    ok: {
      ...c,
      emails: keep(c.emails, (e) => textProblem(e, EMAIL_MAX), () => 'an e-mail', warnings),
      phones: keep(c.phones, (p) => textProblem(p, PHONE_MAX), () => 'a phone', warnings),
    },
    warnings,
  };
}
