// The visitor id as it travels in e-mail: 6 characters from an alphabet without
// look-alikes (no 0/O, 1/I/L), case-insensitive, stored upper-case. A mailto link
// carries it either as plus-addressing (`sales+ab12cd@site.ru`) or as a subject
// tag (`[AB12CD] Question about delivery`). This module is the one reading rule.

export const VISITOR_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const ID = new RegExp(`^[${VISITOR_ALPHABET}]{6}$`);

/** The id in upper case, or null when the text is not a visitor id. */
export function normalizeVisitorId(raw: string): string | null {
  const s = raw.trim().toUpperCase();
  return ID.test(s) ? s : null;
}

/** `Sales <sales+ab12cd@site.ru>` → `AB12CD`. */
export function visitorIdFromAddress(address: string): string | null {
  const m = /\+([A-Za-z0-9]{6})@/.exec(address);
  return m ? normalizeVisitorId(m[1]!) : null;
}

/** `Re: [AB12CD] Question` → `AB12CD`: the first bracketed tag that is a visitor id. */
export function visitorIdFromSubject(subject: string): string | null {
  for (const m of subject.matchAll(/\[([A-Za-z0-9]{6})\]/g)) {
    const id = normalizeVisitorId(m[1]!);
    if (id) return id;
  }
  return null;
}

/** The plus-address of any recipient first, then the subject tag. */
export function extractVisitorId(recipients: string[], subject: string): string | null {
  for (const r of recipients) {
    const id = visitorIdFromAddress(r);
    if (id) return id;
  }
  return visitorIdFromSubject(subject);
}
