// The visitor id in e-mail: every mailto: link carries it, either as a subject
// tag ("[AB12CD] Training") or as plus-addressing ("sales+ab12cd@site.ru"), so
// a message reaching the sales inbox can be tied to the visit. In plus mode an
// address the visitor copies from the page text is tagged in the clipboard too.

/** `sales@site.ru` -> `sales+ab12cd@site.ru`; unchanged when already tagged or not an address. */
export function plusAddress(address: string, id: string): string {
  const tag = '+' + id.toLowerCase();
  return address.replace(/^(.+?)(@|%40)/i, (m, local: string, at: string) =>
    local.toLowerCase().slice(-tag.length) == tag ? m : local + tag + at,
  );
}

/**
 * Puts the visitor id into a mailto: href (any letter case, several recipients,
 * existing subject/body/cc kept). Idempotent: a tagged href comes back as it is.
 * Anything that is not a mailto: href is returned unchanged.
 */
export function tagMailto(href: string, id: string, plus: boolean): string {
  const tag = encodeURIComponent('[' + id + ']');
  return !/^mailto:/i.test(href)
    ? href
    : plus
      ? href.replace(/:([^?]*)/, (_, to: string) => ':' + to.split(',').map((a) => plusAddress(a, id)).join(','))
      : /[?&]subject=/i.test(href)
        ? href.replace(/([?&]subject=)([^&]*)/i, (m, key: string, subject: string) =>
            subject.toUpperCase().includes(tag) ? m : key + tag + (subject && '%20') + subject,
          )
        : href + (href.includes('?') ? '&' : '?') + 'subject=' + tag;
}

/** What an e-mail address in page text or a form field looks like. */
export const EMAIL = /[\w.+'-]+@[\w-]+(\.[\w-]+)+/g;

/** Every e-mail address in a piece of text, plus-tagged with the visitor id. */
export function tagEmails(text: string, id: string): string {
  return text.replace(EMAIL, (a) => plusAddress(a, id));
}
