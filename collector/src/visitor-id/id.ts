// The Throughline visitor id: 6 characters a person can read aloud or type from
// an e-mail subject. The alphabet leaves out 0/O and 1/I/L, which people mix
// up; ids are compared case-insensitively (stored upper-case). The rule itself
// is the shared contract's (contract/ids.ts), the one the tracker checks with.
//   31^6 = 887,503,681 possible ids.
import { randomInt } from 'node:crypto';
import { ALPHABET, ID_LENGTH, visitorId } from '../../../contract/ids.js';

export { ALPHABET, ID_LENGTH };
export const ID_SPACE = ALPHABET.length ** ID_LENGTH;

/** A random id from a cryptographic source: no sequence to guess the next one from. */
export function randomVisitorId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * The id in its stored form (upper-case), or null when it is not a visitor id.
 * Whitespace around it is forgiven (a cookie or an e-mail header may add it),
 * nothing else. A CRM field, where a person may have typed the id, is read with
 * the contract's visitorCode (spaces and dashes inside forgiven too).
 */
export function normalizeVisitorId(value: string): string | null {
  return visitorId(value.length === ID_LENGTH ? value : value.trim()) || null;
}
