// The visitor id as it travels in e-mail. A mailto link carries it either as
// plus-addressing (`sales+ab23cd@site.ru`) or as a subject tag (`[AB23CD]
// Question about delivery`); both formats, and the id's own rule, are the
// shared contract's (contract/mailto.ts, contract/ids.ts), which the tracker
// writes them with. This module is the collector's one reading rule.
import { idFromAddress, idsFromSubject } from '../../../contract/mailto.js';
import { normalizeVisitorId } from '../visitor-id/id.js';

export { normalizeVisitorId };

/** `Sales <sales+ab23cd@site.ru>` → `AB23CD`. */
export function visitorIdFromAddress(address: string): string | null {
  return idFromAddress(address) || null;
}

/**
 * Every bracketed tag of a subject that is a visitor id, in order. `[URGENT]`
 * is a well-formed id too; a caller that can ask which ids were issued picks
 * the issued one.
 */
export const visitorIdsFromSubject = idsFromSubject;

/** `Re: [AB23CD] Question` → `AB23CD`: the first bracketed tag that is a visitor id. */
export function visitorIdFromSubject(subject: string): string | null {
  return idsFromSubject(subject)[0] ?? null;
}

/** The plus-address of any recipient first, then the subject tag. */
export function extractVisitorId(recipients: string[], subject: string): string | null {
  for (const r of recipients) {
    const id = visitorIdFromAddress(r);
    if (id) return id;
  }
  return visitorIdFromSubject(subject);
}
