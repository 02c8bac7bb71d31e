// What personal contact data looks like, by name and by value: the one
// recogniser behind the lead props (pipeline/steps/contacts.ts) and the stored
// URLs (privacy/url.ts).
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

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
 * Whether the text holds a phone number: a run of digits and separators that
 * libphonenumber takes for a valid number (with a country code, or in
 * `country`'s plan), so short ids and timestamps do not count.
 */
export function hasPhone(text: string, country: CountryCode): boolean {
  for (const [run] of text.matchAll(PHONE_RUN)) {
    const digits = run.replace(/\D/g, '').length;
    if (digits < 7 || digits > 15) continue;
    if (parsePhoneNumberFromString(run, country)?.isValid()) return true;
  }
  return false;
}

/** Whether the text holds an e-mail address or a phone number. */
export const hasContact = (text: string, country: CountryCode): boolean => hasEmail(text) || hasPhone(text, country);
