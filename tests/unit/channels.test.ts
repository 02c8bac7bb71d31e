import { describe, expect, it } from 'vitest';
import { classify, type Touch } from '../../collector/src/channels/classify.js';

const t = (over: Partial<Touch>): Touch => ({ clickIdName: '', utmSource: '', utmMedium: '', utmCampaign: '', referrer: '', pageHost: 'shop.example', ...over });

describe('channel grouping', () => {
  it.each<[string, Partial<Touch>, string, string, string]>([
    ['yandex cpc', { utmSource: 'yandex', utmMedium: 'cpc', utmCampaign: 'brand' }, 'paid_search', 'yandex', 'cpc'],
    ['yclid alone', { clickIdName: 'yclid' }, 'paid_search', 'yandex', 'cpc'],
    ['gclid alone', { clickIdName: 'gclid' }, 'paid_search', 'google', 'cpc'],
    ['fbclid alone is organic social', { clickIdName: 'fbclid', referrer: 'https://l.facebook.com/' }, 'social', 'facebook', 'social'],
    ['vk cpc', { utmSource: 'vk', utmMedium: 'cpc' }, 'paid_social', 'vk', 'cpc'],
    ['display cpm', { utmSource: 'yandex', utmMedium: 'cpm' }, 'display', 'yandex', 'cpm'],
    ['newsletter', { utmSource: 'mailchimp', utmMedium: 'email' }, 'email', 'mailchimp', 'email'],
    ['odd medium', { utmSource: 'partner-site', utmMedium: 'qr' }, 'other_campaign', 'partner-site', 'qr'],
    ['google organic', { referrer: 'https://www.google.co.uk/' }, 'organic_search', 'google', 'organic'],
    ['ya.ru organic', { referrer: 'https://ya.ru/search?text=x' }, 'organic_search', 'yandex', 'organic'],
    ['webmail', { referrer: 'https://e.mail.ru/inbox' }, 'email', 'e.mail.ru', 'email'],
    ['vk link', { referrer: 'https://vk.com/wall1' }, 'social', 'vk.com', 'social'],
    ['blog link', { referrer: 'https://blog.example.org/post' }, 'referral', 'blog.example.org', 'referral'],
    ['no referrer', {}, 'direct', '(direct)', '(none)'],
    ['own site as referrer', { referrer: 'https://www.shop.example/about' }, 'direct', '(direct)', '(none)'],
    ['paid social medium', { utmSource: 'mytarget', utmMedium: 'target' }, 'paid_social', 'mytarget', 'target'],
    ['dclid alone', { clickIdName: 'dclid' }, 'display', 'google', 'cpc'],
    ['ttclid alone', { clickIdName: 'ttclid' }, 'paid_social', 'tiktok', 'cpc'],
    ['affiliate', { utmSource: 'admitad', utmMedium: 'affiliate' }, 'affiliate', 'admitad', 'affiliate'],
    ['odd medium with a click id', { utmSource: 'google', utmMedium: 'brand', clickIdName: 'gclid' }, 'paid_search', 'google', 'brand'],
    ['medium without source takes the referrer', { utmMedium: 'referral', referrer: 'https://partner.example/' }, 'referral', 'partner.example', 'referral'],
    ['source alone: search engine', { utmSource: 'yandex' }, 'paid_search', 'yandex', '(not set)'],
    ['source alone: social', { utmSource: 'vk' }, 'social', 'vk', '(not set)'],
    ['source alone: other', { utmSource: 'qr-flyer' }, 'other_campaign', 'qr-flyer', '(not set)'],
    ['webmail gmail', { referrer: 'https://mail.google.com/mail/u/0/' }, 'email', 'mail.google.com', 'email'],
    ['case and spaces in UTM', { utmSource: ' Yandex ', utmMedium: 'CPC' }, 'paid_search', 'yandex', 'cpc'],
  ])('%s', (_name, over, channel, source, medium) => {
    expect(classify(t(over))).toMatchObject({ channel, source, medium });
  });
});

describe('remembered referrer verdicts', () => {
  it('answer as the rules do, every time, and a host is still direct on its own site', () => {
    const blog = t({ referrer: 'https://blog.example.org/a' });
    const first = classify(blog);
    expect(classify(blog)).toEqual(first);
    expect(classify(t({ referrer: 'https://www.google.de/', pageHost: 'blog.example.org' }))).toMatchObject({ channel: 'organic_search', source: 'google' });
    // The same host, now the page's own: direct, whatever was remembered for it elsewhere.
    expect(classify(t({ referrer: 'https://blog.example.org/b', pageHost: 'blog.example.org' }))).toMatchObject({ channel: 'direct' });
    expect(classify(t({ referrer: 'https://blog.example.org/c' }))).toMatchObject({ channel: 'referral', source: 'blog.example.org' });
  });
  it('cannot be changed by a caller', () => {
    const c = classify(t({ referrer: 'https://vk.com/x' }));
    expect(() => {
      (c as { channel: string }).channel = 'paid_search';
    }).toThrow();
    expect(classify(t({ referrer: 'https://vk.com/y' })).channel).toBe('social');
  });
});
