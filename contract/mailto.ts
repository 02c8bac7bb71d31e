// The visitor id in e-mail, as the tracker writes it into mailto: links and
// the collector reads it back from an incoming message: a subject tag,
// `[AB23CD] Training`, or plus-addressing, `sales+ab23cd@site.ru`.
import { ID_LENGTH, visitorId } from './ids.js';

/** What opens and closes the subject tag: `[AB23CD] Training`. */
export const TAG_OPEN = '[';
export const TAG_CLOSE = ']';
/** What joins the id to a mailbox's local part, lower-case: `sales+ab23cd@site.ru`. */
export const PLUS = '+';

/** The subject tag of an id: `[AB23CD]`. */
export const subjectTag = (id: string): string => TAG_OPEN + id + TAG_CLOSE;

/** The plus-address suffix of an id: `+ab23cd`. */
export const plusTag = (id: string): string => PLUS + id.toLowerCase();

const SUBJECT_TAGS = new RegExp(`\\[([A-Za-z0-9]{${ID_LENGTH}})\\]`, 'g');
const PLUS_TAG = new RegExp(`\\+([A-Za-z0-9]{${ID_LENGTH}})@`);

/**
 * `Re: [Срочно] [AB23CD] Question` → `['AB23CD']`: every bracketed tag that is a
 * visitor id, in order. A word of the alphabet's letters (`[URGENT]`) is a
 * well-formed id too: only the issued ids can tell which tag is the visitor's.
 */
export function idsFromSubject(subject: string): string[] {
  return [...subject.matchAll(SUBJECT_TAGS)].map((m) => visitorId(m[1])).filter((id) => id !== '');
}

/** `Sales <sales+ab23cd@site.ru>` → `AB23CD`; '' when the address carries no visitor id. */
export function idFromAddress(address: string): string {
  return visitorId(PLUS_TAG.exec(address)?.[1]);
}
