// What personal contact data looks like, by name and by value: the one
// recogniser behind the lead props (pipeline/steps/contacts.ts) and the stored
// URLs (privacy/url.ts).
import { Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type PersonalKind = 'email' | 'phone' | 'name';

/** A field name as people spell it, reduced to its letters and digits: `E-Mail`, `e_mail` → `email`. */
export const squashName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

const EMAIL_NAME = /mail/;
const PHONE_NAME = /phone|^tel(?:ephone|efon|no|num|number)?$|^mobile|^cell|^whatsapp/;
const PERSON_NAME = /^(?:first|last|full|sur|middle|given|family|user|contact|client|customer)?name$|^fio$/;

/** The kind of personal data a field's name promises, whatever its case or spelling; null for none. */
export function personalName(name: string): PersonalKind | null {
  const k = squashName(name);
  if (EMAIL_NAME.test(k)) return 'email';
  if (PHONE_NAME.test(k)) return 'phone';
  if (PERSON_NAME.test(k)) return 'name';
  return null;
}

const EMAIL_IN = /[^\s@<>()[\]:;,"']+@[^\s@<>()[\]:;,"']+\.[^\s@<>()[\]:;,"'.]{2,}/;
/** A run of digits with a phone's separators, long enough to be one. */
const PHONE_RUN = /\+?\d[\d\s().\-]{5,22}\d/g;

/** Whether the text holds an e-mail address. */
export const hasEmail = (text: string): boolean => text.includes('@') && EMAIL_IN.test(text);

/**
 * A cheap test that a run of digits written without `+` may be a valid number
 * of `country`: its national part (the digits as they are, or without the
 * national prefix, or without the calling code) matches the country's pattern
 * of national numbers. libphonenumber's parse costs a few microseconds; a URL
 * of a shop carries a product id of seven digits or more in most hits, and this
 * regular expression tells nearly all of them apart in tens of nanoseconds.
 * Whatever libphonenumber takes for a valid national number matches the pattern,
 * so the test only saves work and never changes an answer.
 */
type NationalGate = (digits: string) => boolean;
/** The numbering plan's parts the gate reads: present at run time, not in the package's typings (a unit test checks them). */
type PlanParts = {
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  callingCode(): string;
  IDDPrefix(): string | undefined;
};
const gates = new Map<CountryCode, NationalGate>();

function nationalGate(country: CountryCode): NationalGate {
  let gate = gates.get(country);
  if (gate) return gate;
  const metadata = new Metadata() as Metadata & { getCountryCodesForCallingCode(code: string): CountryCode[] | undefined };
  metadata.selectNumberingPlan(country);
  const plan = metadata.numberingPlan as unknown as PlanParts;
  const code = plan.callingCode();
  // Countries that share a calling code (+7: RU and KZ; +1: US, CA, …) take
  // each other's numbers for valid ones, so the national part may match any of theirs.
  const patterns = (metadata.getCountryCodesForCallingCode(code) ?? [country]).map((c) => {
    metadata.selectNumberingPlan(c);
    return (metadata.numberingPlan as unknown as PlanParts).nationalNumberPattern();
  });
  const national = new RegExp(`^(?:${patterns.join('|')})$`);
  const prefix = plan.nationalPrefixForParsing() ? new RegExp(`^(?:${plan.nationalPrefixForParsing()})`) : null;
  const transform = plan.nationalPrefixTransformRule();
  // An international call prefix (00, 810, …) means the number is read as international: no cheap test then.
  const idd = plan.IDDPrefix() ? new RegExp(`^(?:${plan.IDDPrefix()})`) : null;
  /** Whether digits, as they are or without the national prefix, are a national number. */
  const nationalPart = (digits: string): boolean => {
    if (national.test(digits)) return true;
    const p = prefix?.exec(digits);
    if (!p || p[0] === '') return false;
    if (national.test(digits.slice(p[0].length))) return true;
    // Some plans rewrite what the prefix matched (Brazil's carrier codes: 0 14 xx… → xx…).
    return transform !== undefined && national.test(digits.replace(prefix!, transform));
  };
  gate = (digits) =>
    (idd !== null && idd.test(digits)) || nationalPart(digits) || (digits.startsWith(code) && nationalPart(digits.slice(code.length)));
  gates.set(country, gate);
  return gate;
}

/**
 * Whether the text holds a phone number: a run of digits and separators that
 * libphonenumber takes for a valid number (with a country code, or in
 * `country`'s plan), so short ids and timestamps do not count.
 */
export function hasPhone(text: string, country: CountryCode): boolean {
  let gate: NationalGate | undefined;
  for (const [run] of text.matchAll(PHONE_RUN)) {
    const digits = run.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15) continue;
    if (!run.startsWith('+') && !(gate ??= nationalGate(country))(digits)) continue;
    if (parsePhoneNumberFromString(run, country)?.isValid()) return true;
  }
  return false;
}

/** Whether the text holds an e-mail address or a phone number. */
export const hasContact = (text: string, country: CountryCode): boolean => hasEmail(text) || hasPhone(text, country);
