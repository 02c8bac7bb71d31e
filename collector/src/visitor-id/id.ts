// The Throughline visitor id: 6 characters a person can read aloud or type from
// an e-mail subject. The alphabet leaves out 0/O and 1/I/L, which people mix
// up; ids are compared case-insensitively (stored upper-case).
//   31^6 = 887,503,681 possible ids.
import { randomInt } from 'node:crypto';

export const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const ID_LENGTH = 6;
export const ID_SPACE = ALPHABET.length ** ID_LENGTH;

/** A random id from a cryptographic source: no sequence to guess the next one from. */
export function randomVisitorId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

const VISITOR_ID = new RegExp(`^[${ALPHABET}]{${ID_LENGTH}}$`, 'i');

/**
 * The id in its stored form (upper-case), or null when it is not a visitor id.
 * Whitespace around it is forgiven (a cookie or a CRM field may add it), nothing else.
 */
export function normalizeVisitorId(value: string): string | null {
  const id = value.length === ID_LENGTH ? value : value.trim();
  return VISITOR_ID.test(id) ? id.toUpperCase() : null;
}
