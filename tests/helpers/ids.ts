// Fresh ids for test hits, each valid by the collector's rule.
import { randomBytes } from 'node:crypto';
import { ALPHABET } from '../../contract/ids.js';

/** A random visitor id (6 characters of the id alphabet). */
export const newVisitorId = (): string => Array.from(randomBytes(6), (b) => ALPHABET[b % ALPHABET.length]).join('');

/** A random event id (20 hex characters). */
export const newEventId = (): string => randomBytes(10).toString('hex');
