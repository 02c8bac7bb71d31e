// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../../tracker/src/config.js';

function script(attrs: Record<string, string>): HTMLScriptElement {
  const s = document.createElement('script');
  s.src = 'https://collector.example.com/t.js?v=2';
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  return s;
}

describe('tracker config', () => {
  it('has documented defaults', () => {
    const [base, site, mailto, gaCookie, days, dnt, wait, field] = readConfig(script({}), 'shop.example');
    expect({ base, site, mailto, gaCookie, days, dnt, wait }).toEqual({
      base: 'https://collector.example.com/',
      site: 'shop.example',
      mailto: 'subject',
      gaCookie: '_ga',
      days: 90,
      dnt: false,
      wait: false,
    });
    expect(field('utm_source')).toBe('utm_source');
  });

  it('reads every data- attribute', () => {
    const [base, site, mailto, gaCookie, days, dnt, wait, field] = readConfig(
      script({
        'data-site': 'northwind',
        'data-mailto': 'plus',
        'data-ga-cookie': '_ga_custom',
        'data-days': '30',
        'data-dnt': '',
        'data-consent': 'wait',
        'data-field-tl_vid': 'visitor',
        'data-field-tl_ym': '',
      }),
      'x',
    );
    expect({ base, site, mailto, gaCookie, days, dnt, wait }).toEqual({
      base: 'https://collector.example.com/',
      site: 'northwind',
      mailto: 'plus',
      gaCookie: '_ga_custom',
      days: 30,
      dnt: true,
      wait: true,
    });
    expect(field('tl_vid')).toBe('visitor');
    expect(field('tl_ym')).toBe('');
    expect(field('tl_ga')).toBe('tl_ga');
  });

  it('falls back to 90 days for a lifetime that is not a number', () => {
    expect(readConfig(script({ 'data-days': 'forever' }), 'x')[4]).toBe(90);
    expect(readConfig(script({ 'data-days': '0' }), 'x')[4]).toBe(90);
  });
});
