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
 * The field a form keeps one of our values in, by the matching rules (README,
 * "Forms on the platforms"), for a field name N (its default name, or the one
 * data-<default> gives it, which must be a CSS identifier: letters, digits, _
 * and -). A field matches when its name ends with N or with `N]` (N itself,
 * Elementor's `form_fields[N]`, prefixed names like `your-N`); when its id
 * ends with N (Elementor's `form-field-N`); or when it, or an element of the
 * form around it, has the class N (how Gravity Forms and others let the owner
 * mark a field: on its wrapper). The first in the form's order wins.
 */
export function matchField(form: HTMLFormElement, name: string): HTMLInputElement | null {
  return form.querySelector(`[name$="${name}"],[name$="${name}]"],[id$="${name}"],.${name} input,input.${name}`);
}

/**
 * Fills one form with the values of FIELDS, under the names the site's
 * configuration gives them ('' = leave out). Empty values add no field; a
 * field no rule finds is added as a hidden input (a plain form posts it).
 */
export function fillForm(form: HTMLFormElement, values: (string | null)[], config: Config, set?: (el: HTMLInputElement, value: string) => void): void {
  FIELDS.forEach((key, i) => {
    const name = config[key] ?? key; // data-<default name>
    const value = values[i];
    if (name && value) {
      const el = matchField(form, name) || form.appendChild(Object.assign(document.createElement('input'), { type: 'hidden', name }));
      // A hidden input is ours to (re)fill; a field the visitor can type into is
      // filled only while empty, so what the visitor typed is never overwritten.
      // `set`: how the platform hooks set a value (with events, tracker/src/hooks/events.ts).
      if ((el.type == 'hidden' || !el.value) && el.value != value) set ? set(el, value) : (el.value = value);
    }
  });
}

/**
 * What a lead event carries: the form's id/name/action and the e-mail and phone
 * the visitor entered (the collector keeps only keyed hashes of those), nothing
 * else from the form.
 */
export function leadProps(form: HTMLFormElement): Record<string, string> {
  // (an e-mail or phone not found is left out)
  const props: Record<string, string> = {};
  for (const key of ['id', 'name', 'action']) props[key] = form.getAttribute(key) || '';
  for (const el of form.querySelectorAll('input')) {
    // Only found, not validated: the collector normalises both (and drops
    // what is no e-mail or phone) before it keeps their keyed hashes.
    const v = el.value;
    if (/^\S+@\S+$/.test(v)) props.email ||= v;
    else if (/tel|phone/i.test(el.type + el.name)) props.phone ||= v;
  }
  return props;
}
