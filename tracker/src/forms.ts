// Hidden form fields: every form on the page (including forms added later)
// carries the visitor's ids and touches, so a site-to-CRM integration carries
// them into CRM fields. The rules: fields the webmaster placed are filled, a
// value someone else put there (the visitor typing, the site's own script) is
// never overwritten (only hidden inputs are refilled; a visible field only
// while empty), and missing fields are added as hidden inputs.
import { EMAIL } from './mailto.js';
import { CAMPAIGN, params, type Touch } from './touches.js';

/** What each field holds, by its default name (README lists them). */
export function fieldValues(ids: { v: string; g: string; y: string }, first: Touch | undefined, last: Touch | undefined): Record<string, string> {
  const p = params(last?.l);
  const values: Record<string, string> = {
    tl_vid: ids.v,
    tl_ga: ids.g,
    tl_ym: ids.y,
    tl_referrer: last?.r as string,
    tl_landing: last?.l as string,
    tl_first_landing: first?.l as string,
    tl_first_referrer: first?.r as string,
  };
  for (const n of CAMPAIGN) values[n] = p.get(n) as string;
  return values;
}

/**
 * Fills one form; `rename` maps a default field name to the site's ('' = leave
 * out). Empty values add no field.
 */
export function fillForm(form: HTMLFormElement, values: Record<string, string>, rename: (name: string) => string): void {
  for (const key in values) {
    const name = rename(key);
    const value = values[key];
    if (!name || !value) continue;
    const el = (form.elements.namedItem(name) || form.appendChild(Object.assign(document.createElement('input'), { type: 'hidden', name }))) as HTMLInputElement;
    // A hidden input is ours to (re)fill; a field the visitor can type into (an
    // input or textarea: the elements with select()) is filled only while empty.
    // A RadioNodeList (several fields of that name) or a <select> is the site's business.
    if (el.type == 'hidden' || (!el.value && 'select' in el)) el.value = value;
  }
}

/**
 * What a lead event carries: the form's id/name/action and the e-mail and phone
 * the visitor entered (the collector keeps only keyed hashes of those), nothing
 * else from the form.
 */
export function leadProps(form: HTMLFormElement): Record<string, string> {
  const attr = (n: string) => form.getAttribute(n) || '';
  let email = '';
  let phone = '';
  for (const el of form.querySelectorAll('input')) {
    const v = el.value.trim();
    const found = v.match(EMAIL);
    if (found) email ||= found[0];
    else if (/tel|phone/i.test(el.type + el.name) && /(\d\D*){5}/.test(v)) phone ||= v;
  }
  return { id: attr('id'), name: attr('name'), action: attr('action'), email, phone };
}
