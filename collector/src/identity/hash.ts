// Personal contact data (e-mail addresses, phone numbers) is never stored: it is
// normalised, then replaced by a keyed hash (HMAC-SHA256 with the installation's
// IDENTITY_KEY). The same person typed into a site form, written into a CRM
// contact or sending an e-mail gets the same hash, which is what links them.
// Every capability that meets contact data calls these functions, and only these.
import { createHmac } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Lower-cased, trimmed, without a `+tag` in the local part; null when not an address. */
export function normalizeEmail(raw: string): string | null {
  const s = raw.trim().toLowerCase().replace(/^mailto:/, '');
  if (!EMAIL.test(s)) return null;
  const at = s.lastIndexOf('@');
  const local = s.slice(0, at).replace(/\+.*$/, '');
  return local ? `${local}@${s.slice(at + 1)}` : null;
}

/**
 * E.164 (`+74950000000`); numbers written without a country code are read as
 * `defaultCountry`'s. Russian `8 (495) …` trunk-prefixed numbers become `+7495…`.
 * Null when it cannot be a phone number.
 */
export function normalizePhone(raw: string, defaultCountry: CountryCode = 'RU'): string | null {
  if (!/\d/.test(raw) || raw.length > 64) return null;
  const p = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  return p && p.isPossible() ? p.number : null;
}

export type ContactKind = 'email' | 'phone';

/** 32 hex chars: HMAC-SHA256(key, kind + ':' + normalised value), truncated. */
export function contactHash(kind: ContactKind, normalized: string, key: string): string {
  // An empty key would be a public one: start-up sets the key before any hash (identity/key.ts).
  if (key === '') throw new Error('contact hash without an identity key');
  return createHmac('sha256', key).update(`${kind}:${normalized}`).digest('hex').slice(0, 32);
}

/** Normalise and hash in one step; null when the value is not a valid e-mail / phone. */
export function hashEmail(raw: string, key: string): string | null {
  const n = normalizeEmail(raw);
  return n === null ? null : contactHash('email', n, key);
}

export function hashPhone(raw: string, key: string, defaultCountry: CountryCode = 'RU'): string | null {
  const n = normalizePhone(raw, defaultCountry);
  return n === null ? null : contactHash('phone', n, key);
}
