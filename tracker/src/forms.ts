// Hidden form fields: every form on the page (including forms added later)
// carries the visitor's ids and touches, so a site-to-CRM integration carries
// them into CRM fields. The rules: fields the webmaster placed are filled, a
// value someone else put there (the visitor typing, the site's own script) is
// never overwritten (only hidden inputs are refilled; a visible field only
// while empty), and missing fields are added as hidden inputs.
import { HIDDEN_FIELDS as FIELDS } from '../../contract/fields.js';
import type { Config } from './config.js';
import { CAMPAIGN, params, type Touch } from './touches.js';

/** The hidden fields, by their default names (README lists them): the names the collector's CRM side reads by default. */
export { FIELDS };

/** What each of FIELDS holds: ids, the last touch, the first touch, the last touch's campaign. */
export function fieldValues({ v, g, y }: { v: string; g: string; y: string }, first: Touch = '', last: Touch = ''): (string | null)[] {
  const p = params(last);
  // (a damaged cookie without its space still gives two parts)
  return [v, g, y, ...(last + ' ').split(' ', 2), ...(first + ' ').split(' ', 2), ...CAMPAIGN.map(p.get, p)];
}

/**
 * Fills one form with the values of FIELDS, under the names the site's
 * configuration gives them ('' = leave out). Empty values add no field.
 */
export function fillForm(form: HTMLFormElement, values: (string | null)[], config: Config): void {
  FIELDS.forEach((key, i) => {
    const name = config[key] ?? key; // data-<default name>
    const value = values[i];
    if (name && value) {
      const el = (form.elements.namedItem(name) || form.appendChild(Object.assign(document.createElement('input'), { type: 'hidden', name }))) as HTMLInputElement;
      // A hidden input is ours to (re)fill; a field the visitor can type into is
      // filled only while empty, so what the visitor typed is never overwritten.
      if (el.type == 'hidden' || !el.value) el.value = value;
    }
  });
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
    // Only found, not validated: the collector normalises both (and drops
    // what is no e-mail or phone) before it keeps their keyed hashes.
    const v = el.value;
    if (/^\S+@\S+$/.test(v)) email ||= v;
    else if (/tel|phone/i.test(el.type + el.name)) phone ||= v;
  }
  return { id: attr('id'), name: attr('name'), action: attr('action'), email, phone };
}
