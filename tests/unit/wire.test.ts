import { describe, expect, it } from 'vitest';
import { toRow } from '../../collector/src/hits/row.js';
import { isWireError, parseHit } from '../../collector/src/hits/wire.js';

const good = { s: 'demo', k: 'visit', e: 'abcdefgh12', t: 1_764_000_000_123, u: 'https://a.example/?utm_source=yandex&yclid=77', r: '', g: '1.2', y: '33' };

describe('hit wire format', () => {
  it('parses a well-formed hit', () => {
    const h = parseHit(JSON.stringify(good));
    expect(isWireError(h)).toBe(false);
    expect(h).toMatchObject({ siteId: 'demo', kind: 'visit', eventId: 'abcdefgh12', gaCid: '1.2', ymUid: '33', visitorId: '' });
  });
  it('takes the page host name as the site when the tag names none (the tracker then sends no s)', () => {
    const { s: _s, ...bare } = good;
    expect(parseHit(JSON.stringify({ ...bare, u: 'https://WWW.Shop.example:8443/a?b=1' }))).toMatchObject({ siteId: 'www.shop.example' });
    expect(isWireError(parseHit(JSON.stringify({ ...bare, u: 'not a url' })))).toBe(true);
    expect(isWireError(parseHit(JSON.stringify({ ...bare, u: 7 })))).toBe(true);
  });
  it.each([
    ['not json', 'malformed_json'],
    ['[1,2]', 'malformed_json'],
    [JSON.stringify({ ...good, s: '' }), 'invalid_site'],
    [JSON.stringify({ ...good, k: 'buy' }), 'invalid_kind'],
    [JSON.stringify({ ...good, e: 'short' }), 'invalid_event_id'],
    [JSON.stringify({ ...good, t: 'now' }), 'invalid_timestamp'],
    [JSON.stringify({ ...good, u: 'javascript:alert(1)' }), 'invalid_url'],
    [JSON.stringify({ ...good, p: { a: 1 } }), 'invalid_field'],
  ])('drops %s as %s', (body, reason) => {
    const h = parseHit(body);
    expect(isWireError(h) && h.reason).toBe(reason);
  });
  it('turns a hit into a full row with UTM and click id parsed from the URL', () => {
    const h = parseHit(JSON.stringify({ ...good, v: 'ab23cd', p: { form: 'lead' } }));
    if (isWireError(h)) throw new Error(h.reason);
    const row = toRow(h, Date.UTC(2026, 0, 1), { userAgent: 'UA', ipHash: 'x' });
    expect(row).toMatchObject({
      utm_source: 'yandex',
      click_id_name: 'yclid',
      click_id: '77',
      visitor_id: 'AB23CD',
      ts_ms: 123,
      received_at: '2026-01-01 00:00:00',
      prop_keys: ['form'],
      prop_values: ['lead'],
    });
  });
  it('parses the referrer once when the pipeline already did, with the same channel', () => {
    const h = parseHit(JSON.stringify({ ...good, u: 'https://shop.example/', r: 'https://WWW.Google.co.uk/search?q=x' }));
    if (isWireError(h)) throw new Error(h.reason);
    const parsed = toRow(h, 0, { userAgent: '', ipHash: '', referrerHost: new URL(h.referrer).hostname });
    expect(parsed).toMatchObject({ channel: 'organic_search', source: 'google' });
    expect(parsed).toEqual(toRow(h, 0, { userAgent: '', ipHash: '' }));
  });
  it('finds UTM tags and click ids only a full parse sees: an encoded name, any case of the marker', () => {
    for (const [u, field, value] of [
      ['https://a.example/?utm%5Fsource=vk', 'utm_source', 'vk'],
      ['https://a.example/?x=1&UTM_x=2&utm_medium=cpc', 'utm_medium', 'cpc'],
      ['https://a.example/?msclkid=9', 'click_id', '9'],
      ['https://a.example/?li_fat_id=5', 'click_id', '5'],
      ['https://a.example/?id=1', 'utm_source', ''],
    ] as const) {
      const h = parseHit(JSON.stringify({ ...good, u }));
      if (isWireError(h)) throw new Error(h.reason);
      expect(toRow(h, 0, { userAgent: '', ipHash: '' })[field]).toBe(value);
    }
  });
});
