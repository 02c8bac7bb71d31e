// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { collectorBase, type Config } from '../../../tracker/src/config.js';
import { FIELDS, fieldValues, fillForm } from '../../../tracker/src/forms.js';

function dataset(attrs: Record<string, string>): Config {
  const s = document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  return s.dataset;
}

describe('tracker config', () => {
  it('finds the collector where the tracker came from', () => {
    expect(collectorBase('https://collector.example.com/t.js?v=2')).toBe('https://collector.example.com/');
    expect(collectorBase('https://example.com/analytics/t.js')).toBe('https://example.com/analytics/');
  });

  it('reads every data- attribute through the dataset', () => {
    const c = dataset({ 'data-site': 'northwind', 'data-mailto': 'plus', 'data-ga-cookie': '_ga_custom', 'data-days': '30', 'data-dnt': '', 'data-consent': 'wait' });
    expect({ ...c }).toEqual({ site: 'northwind', mailto: 'plus', gaCookie: '_ga_custom', days: '30', dnt: '', consent: 'wait' });
  });

  it('renames hidden fields with data-<default name>, and leaves out those named ""', () => {
    document.body.innerHTML = '<form></form>';
    const form = document.forms[0]!;
    fillForm(form, fieldValues({ v: 'AB23CD', g: '1.2', y: '3' }), dataset({ 'data-tl_vid': 'visitor', 'data-tl_ym': '' }));
    expect(form.querySelector<HTMLInputElement>('[name=visitor]')!.value).toBe('AB23CD');
    expect(form.querySelector('[name=tl_vid]')).toBeNull();
    expect(form.querySelector('[name=tl_ym]')).toBeNull();
    expect(form.querySelector<HTMLInputElement>('[name=tl_ga]')!.value).toBe('1.2');
  });

  it('has no option whose name is also a default field name', () => {
    for (const option of ['site', 'mailto', 'gaCookie', 'days', 'dnt', 'consent']) expect(FIELDS).not.toContain(option);
  });
});
