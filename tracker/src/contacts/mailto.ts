// The visitor id in e-mail: every mailto: link carries it, either as a subject
// tag ("[AB23CD] Training") or as plus-addressing ("sales+ab23cd@site.ru"), so
// a message reaching the sales inbox can be tied to the visit. In plus mode an
// address the visitor copies from the page text is tagged in the clipboard too.
// The tag formats are the contract's (contract/mailto.ts), which the collector
// reads incoming messages with.
import { PLUS, TAG_CLOSE, TAG_OPEN } from '../../../contract/mailto.js';

/**
 * Every e-mail address in a text (or the recipients of a mailto: href, where
 * `@` may be written %40) plus-tagged with the visitor id, lower-case:
 * `sales@site.ru` -> `sales+ab23cd@site.ru`. An address already tagged is left.
 */
export function plusAddresses(text: string, id: string): string {
  const tag = PLUS + id.toLowerCase(); // the contract's plusTag, written out: fewer bytes
  return text.replace(/([\w.+'-]+)(@|%40)(?=[\w-]+\.\w)/gi, (m, local: string, at: string) => (local.toLowerCase().endsWith(tag) ? m : local + tag + at));
}

/**
 * Puts the visitor id into a mailto: href as a subject tag (any letter case,
 * several recipients, existing subject/body/cc kept): `[AB23CD] ` before the
 * subject, or the tag as the subject. Idempotent: a tagged href comes back as
 * it is. Anything that is not a mailto: href is returned unchanged.
 */
export function tagMailto(href: string, id: string): string {
  const tag = encodeURIComponent(TAG_OPEN + id + TAG_CLOSE); // the contract's subjectTag, percent-encoded: %5BAB23CD%5D
  // One replace: the leftmost of an existing subject and the end of the href.
  return !/^mailto:/i.test(href) || href.toUpperCase().includes(tag)
    ? href
    : href.replace(/([?&]subject=)|$/i, (m, key?: string) => (key ? key + tag + '%20' : (href.includes('?') ? '&' : '?') + 'subject=' + tag));
}

/** A mailto: href with every recipient plus-tagged (plus mode: hooks/contacts.ts). */
export const plusMailto = (href: string, id: string): string => (/^mailto:/i.test(href) ? href.replace(/^[^?]*/, (to) => plusAddresses(to, id)) : href);
