import { describe, expect, it } from 'vitest';
import { CLICK_IDS, UTM_TAGS } from '../../../contract/campaign.js';
import { campaign, nextTouches, params, type Touch } from '../../../tracker/src/touches.js';

const host = 'shop.example';
const t = (l: string, r = ''): Touch => `${l} ${r}`;
const next = (first: Touch | undefined, last: Touch | undefined, cur: Touch, pageHost = host) => nextTouches(first, last, cur, pageHost);

describe('touch parameters', () => {
  it('decodes percent-encoded UTM values and keeps the first of repeated ones', () => {
    const p = params('https://shop.example/?utm_source=%D1%8F%D0%BD%D0%B4%D0%B5%D0%BA%D1%81&utm_campaign=a&utm_campaign=b&utm_term=red+shoes');
    expect(p.get('utm_source')).toBe('яндекс');
    expect(p.get('utm_campaign')).toBe('a');
    expect(p.get('utm_term')).toBe('red shoes');
  });
  it('ignores the fragment and tolerates malformed input', () => {
    expect(params('https://shop.example/#x?utm_source=frag').get('utm_source')).toBeNull();
    expect(params('https://shop.example/?utm_source=q#utm_source=frag').get('utm_source')).toBe('q');
    expect(params(undefined).get('utm_source')).toBeNull();
    expect(params('https://shop.example/?utm_source=%E0%A4%A').get('utm_source')).toBe('\ufffd%A');
  });
  it('finds a campaign in any UTM tag or any click id of the contract', () => {
    expect(campaign('https://shop.example/')).toBe('');
    expect(campaign('https://shop.example/?page=2')).toBe('');
    expect(campaign('https://shop.example/?utm_source=')).toBe('');
    for (const id of [...UTM_TAGS, ...CLICK_IDS]) {
      expect(campaign(`https://shop.example/?${id}=123`)).not.toBe('');
    }
    expect(campaign('https://shop.example/?utm_source=a')).not.toBe(campaign('https://shop.example/?utm_source=b'));
    expect(campaign('https://shop.example/?yclid=1')).not.toBe(campaign('https://shop.example/?yclid=2'));
    expect(campaign('https://shop.example/?utm_source=a&x=1')).toBe(campaign('https://shop.example/?x=2&utm_source=a'));
  });
});

describe('first and last touch', () => {
  const ad = t('https://shop.example/?utm_source=yandex&utm_campaign=brand&yclid=77', 'https://yandex.ru/');

  it('keeps the first touch once', () => {
    expect(next(undefined, undefined, ad)[0]).toBe(ad);
    expect(next(ad, ad, t('https://shop.example/?utm_source=google', 'https://google.com/'))[0]).toBeUndefined();
  });

  it('records even a direct first visit as the first touch, but not as the last', () => {
    const direct = t('https://shop.example/');
    expect(next(undefined, undefined, direct)).toEqual([direct, undefined, false]);
  });

  it('a direct visit never erases the campaign', () => {
    expect(next(ad, ad, t('https://shop.example/prices'))).toEqual([undefined, undefined, false]);
  });

  it('an internal page view is not a touch', () => {
    expect(next(ad, ad, t('https://shop.example/prices', 'https://shop.example/'))[1]).toBeUndefined();
  });

  it('a landing from another site replaces the last touch but is no new campaign', () => {
    const organic = t('https://shop.example/blog', 'https://www.google.com/');
    expect(next(ad, ad, organic)).toEqual([undefined, organic, false]);
  });

  it('a new campaign or click id replaces the last touch and is new', () => {
    const other = t('https://shop.example/?utm_source=google&gclid=9', 'https://google.com/');
    expect(next(ad, ad, other)).toEqual([undefined, other, true]);
    const sameTagsNewClick = t('https://shop.example/?utm_source=yandex&utm_campaign=brand&yclid=78');
    expect(next(ad, ad, sameTagsNewClick)[2]).toBe(true);
  });

  it('the same campaign again (a reload) is a touch but not new', () => {
    const reload = t('https://shop.example/?utm_source=yandex&utm_campaign=brand&yclid=77', 'https://yandex.ru/');
    expect(next(ad, ad, reload)).toEqual([undefined, reload, false]);
  });

  it('compares referrer hosts with the port', () => {
    expect(next(ad, ad, t('http://localhost:8081/', 'http://localhost:8081/a'), 'localhost:8081')[1]).toBeUndefined();
    expect(next(ad, ad, t('http://localhost:8081/', 'http://localhost:9000/'), 'localhost:8081')[1]).toBeDefined();
  });

  it('reads a touch: the landing URL, a space, the referrer', () => {
    expect(campaign(ad)).toBe(campaign('https://shop.example/?utm_source=yandex&utm_campaign=brand&yclid=77'));
    // the referrer's query is not the landing's
    expect(campaign(t('https://shop.example/', 'https://yandex.ru/?utm_source=x'))).toBe('');
    expect(params(t('https://shop.example/?yclid=1', 'https://ya.ru/')).get('yclid')).toBe('1');
  });
});
