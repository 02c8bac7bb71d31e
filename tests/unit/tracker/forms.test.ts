// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { FIELDS, fieldValues, fillForm, leadProps } from '../../../tracker/src/forms.js';

const ids = { v: 'AB23CD', g: '908899769.1600020018', y: '1551977723718998723' };
const firstLanding = 'https://shop.example/?utm_source=google';
const lastLanding = 'https://shop.example/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand&yclid=77';
const first = `${firstLanding} https://google.com/`;
const last = `${lastLanding} https://yandex.ru/`;
const same = {};
/** The values by field name. */
const byName = (values: (string | null)[]) => Object.fromEntries(FIELDS.map((k, i) => [k, values[i]]));

function form(html: string): HTMLFormElement {
  document.body.innerHTML = `<form id="f" name="lead" action="/send">${html}</form>`;
  return document.forms[0]!;
}
const value = (f: HTMLFormElement, name: string) => (f.elements.namedItem(name) as HTMLInputElement | null)?.value;

describe('hidden form field values', () => {
  it('carries ids, the last touch UTM tags and click id, and both touches', () => {
    const v = byName(fieldValues(ids, first, last));
    expect(v).toMatchObject({
      tl_vid: 'AB23CD',
      tl_ga: '908899769.1600020018',
      tl_ym: '1551977723718998723',
      utm_source: 'yandex',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      yclid: '77',
      tl_referrer: 'https://yandex.ru/',
      tl_landing: lastLanding,
      tl_first_landing: firstLanding,
      tl_first_referrer: 'https://google.com/',
    });
    expect(v.gclid).toBeFalsy();
  });
  it('is empty for a visitor without touches', () => {
    expect(fieldValues({ v: '', g: '', y: '' }, undefined, undefined).filter(Boolean)).toEqual([]);
  });
  it('reads a damaged touch without shifting the fields', () => {
    const v = byName(fieldValues(ids, 'only-a-landing', undefined));
    expect(v.tl_first_landing).toBe('only-a-landing');
    expect(v.tl_first_referrer).toBe('');
    expect(v.utm_source).toBeNull();
  });
});

describe('filling a form', () => {
  beforeEach(() => {
    document.body.innerHTML = '';
  });

  it('adds hidden inputs for every non-empty value', () => {
    const f = form('<input name="name">');
    fillForm(f, fieldValues(ids, first, last), same);
    expect(value(f, 'tl_vid')).toBe('AB23CD');
    expect(value(f, 'utm_source')).toBe('yandex');
    expect(value(f, 'yclid')).toBe('77');
    expect((f.elements.namedItem('tl_vid') as HTMLInputElement).type).toBe('hidden');
    expect(f.elements.namedItem('gclid')).toBeNull();
    expect(new FormData(f).get('tl_first_landing')).toBe(firstLanding);
  });

  it('fills the fields the webmaster placed, and refills hidden ones', () => {
    const f = form('<input type="hidden" name="utm_source"><input type="hidden" name="tl_vid" value="OLD">');
    fillForm(f, fieldValues(ids, first, last), same);
    expect(value(f, 'utm_source')).toBe('yandex');
    expect(value(f, 'tl_vid')).toBe('AB23CD');
    expect(f.querySelectorAll('[name=utm_source]')).toHaveLength(1);
    fillForm(f, fieldValues(ids, first, `https://shop.example/?utm_source=google https://google.com/`), same);
    expect(value(f, 'utm_source')).toBe('google');
  });

  it('finds the fields builders render: bracketed and prefixed names, ids, a class on the field or its wrapper', () => {
    const f = form(
      '<input type="hidden" name="form_fields[tl_vid]" id="form-field-tl_vid">' + // Elementor
        '<div class="gfield gfield--type-hidden tl_ga"><input type="hidden" name="input_5" id="input_1_5"></div>' + // Gravity
        '<input type="hidden" name="your-utm_source">' + // prefixed
        '<input type="hidden" name="field_7" id="f-utm_medium">' + // id
        '<input type="hidden" name="field_8" class="x utm_campaign">' + // class on the field
        '<input type="hidden" name="tl_first_landing">',
    );
    fillForm(f, fieldValues(ids, first, last), same);
    const data = Object.fromEntries(new FormData(f));
    expect(data).toMatchObject({ 'form_fields[tl_vid]': 'AB23CD', input_5: ids.g, 'your-utm_source': 'yandex', field_7: 'cpc', field_8: 'brand', tl_first_landing: firstLanding });
    // Nothing appended for a value that found its field; a near name is not our field.
    for (const name of ['tl_vid', 'tl_ga', 'utm_source', 'utm_medium', 'utm_campaign', 'tl_landing']) expect(f.querySelectorAll(`[name="${name}"]`).length, name).toBe(name === 'tl_landing' ? 1 : 0);
    expect(value(f, 'tl_landing')).toBe(lastLanding);
  });

  it('never overwrites a value the visitor typed', () => {
    const f = form('<input name="utm_source"><textarea name="tl_landing"></textarea>');
    (f.elements.namedItem('utm_source') as HTMLInputElement).value = 'a friend told me';
    fillForm(f, fieldValues(ids, first, last), same);
    expect(value(f, 'utm_source')).toBe('a friend told me');
    expect(value(f, 'tl_landing')).toBe(lastLanding);
  });

  it('leaves radio groups and chosen selects alone', () => {
    const f = form('<input type="radio" name="utm_source" value="a" checked><input type="radio" name="utm_source" value="b"><select name="utm_medium"><option>x</option></select>');
    expect(() => fillForm(f, fieldValues(ids, first, last), same)).not.toThrow();
    expect((f.querySelector('select') as HTMLSelectElement).value).toBe('x');
    expect(f.querySelectorAll('input[type=hidden][name=utm_source]')).toHaveLength(0);
    expect((f.querySelector('input[value=a]') as HTMLInputElement).checked).toBe(true);
  });
});

describe('lead properties', () => {
  it('carries the form identity, the e-mail and the phone, nothing else', () => {
    const f = form('<input name="name" value="Ivan"><input type="email" name="mail" value="ivan@mail.ru"><input type="tel" name="p" value="+7 (495) 000-00-00"><input name="comment" value="call me at 9pm">');
    expect(leadProps(f)).toEqual({ id: 'f', name: 'lead', action: '/send', email: 'ivan@mail.ru', phone: '+7 (495) 000-00-00' });
  });
  it('finds a phone by field type or name, the first one filled', () => {
    const f = form('<input name="your-phone" value=""><input name="tel_main" value="8 800 555 35 35"><input name="phone2" value="12">');
    expect(leadProps(f).phone).toBe('8 800 555 35 35');
    expect(leadProps(form('<input name="comment" value="8 800 555 35 35">')).phone).toBeUndefined();
  });
  it('reads attributes, not properties clobbered by fields named id/name/action', () => {
    document.body.innerHTML = '<form><input name="id" value="x"><input name="name" value="y"><input name="action" value="z"></form>';
    expect(leadProps(document.forms[0]!)).toEqual({ id: '', name: '', action: '' });
  });
});
