// Channel grouping: which kind of traffic a landing came from, decided from its
// click id, its UTM tags and its referrer, in that order of trust. This file is
// the one place these rules live; ingestion stores the result on each hit and
// reports group by it. The rules are listed in README ("Channels").
import { remember } from '../cache/remember.js';

export type Channel =
  | 'paid_search'
  | 'paid_social'
  | 'display'
  | 'organic_search'
  | 'social'
  | 'email'
  | 'affiliate'
  | 'referral'
  | 'other_campaign'
  | 'direct';

export const CHANNELS: readonly Channel[] = [
  'paid_search',
  'paid_social',
  'display',
  'organic_search',
  'social',
  'email',
  'affiliate',
  'referral',
  'other_campaign',
  'direct',
];

export type Touch = {
  /** Name of the click id found in the landing URL ('gclid', 'yclid', …) or ''. */
  clickIdName: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  /** Full referrer URL or ''. */
  referrer: string;
  /** The referrer's host when the caller has parsed the URL already (the hit pipeline has): it is not parsed again. */
  referrerHost?: string;
  /** Host of the page itself: a referrer from the same site is not a source. */
  pageHost: string;
};

export type Classified = { channel: Channel; source: string; medium: string; campaign: string };

/** Click ids and what they tell, one for each of the contract's CLICK_IDS (tests/unit/contract.test.ts). fbclid is added to every outbound Facebook link, paid or not. */
export const CLICK_ID_RULES: Record<string, { source: string; channel: Channel }> = {
  gclid: { source: 'google', channel: 'paid_search' },
  gbraid: { source: 'google', channel: 'paid_search' },
  wbraid: { source: 'google', channel: 'paid_search' },
  dclid: { source: 'google', channel: 'display' },
  yclid: { source: 'yandex', channel: 'paid_search' },
  msclkid: { source: 'bing', channel: 'paid_search' },
  fbclid: { source: 'facebook', channel: 'social' },
  ttclid: { source: 'tiktok', channel: 'paid_social' },
  vkclid: { source: 'vk', channel: 'paid_social' },
  twclid: { source: 'twitter', channel: 'paid_social' },
  li_fat_id: { source: 'linkedin', channel: 'paid_social' },
};

const SEARCH_ENGINES = /(^|\.)(google\.[a-z.]+|yandex\.[a-z.]+|ya\.ru|bing\.com|duckduckgo\.com|yahoo\.[a-z.]+|baidu\.com|ecosia\.org|go\.mail\.ru|rambler\.ru|search\.brave\.com|startpage\.com|naver\.com|seznam\.cz)$/;
const SOCIAL = /(^|\.)(facebook\.com|fb\.com|instagram\.com|vk\.com|vk\.ru|ok\.ru|t\.me|telegram\.org|twitter\.com|x\.com|t\.co|linkedin\.com|lnkd\.in|youtube\.com|youtu\.be|tiktok\.com|pinterest\.[a-z.]+|reddit\.com|dzen\.ru|threads\.net)$/;
const WEBMAIL = /(^|\.)(mail\.google\.com|e\.mail\.ru|mail\.yandex\.[a-z]+|mail\.ru|outlook\.live\.com|outlook\.office\.com|mail\.yahoo\.com|mail\.rambler\.ru)$/;

const PAID_MEDIUM = /^(cpc|ppc|paid|paidsearch|paid_search|paid-search|cpa|cpv|cpl)$/;
const DISPLAY_MEDIUM = /^(cpm|display|banner|rtb|programmatic|native)$/;
const PAID_SOCIAL_MEDIUM = /^(paid_social|paid-social|paidsocial|social_paid|social-paid|smm_paid|cpc_social|target|targeting)$/;
const SOCIAL_MEDIUM = /^(social|social-network|social_network|sm|smm|social-media|social_media)$/;
const EMAIL_MEDIUM = /^(email|e-mail|e_mail|mail|newsletter|mailing|rassylka)$/;
const AFFILIATE_MEDIUM = /^(affiliate|partner|partners|cpa_partner)$/;

export function hostOf(url: string): string {
  if (!url) return '';
  const parsed = URL.parse(url);
  return parsed ? bareHost(parsed.hostname) : '';
}

/** `WWW.Shop.example` -> `shop.example`. */
export function bareHost(host: string): string {
  const h = host.toLowerCase();
  return h.startsWith('www.') ? h.slice(4) : h;
}

function isSearchSource(source: string): boolean {
  return /^(google|yandex|bing|yahoo|duckduckgo|baidu|mail\.ru|ya|yandex_direct|yandex-direct|direct|adwords|googleads)$/.test(source) || SEARCH_ENGINES.test(source);
}

function isSocialSource(source: string): boolean {
  return /^(facebook|fb|instagram|ig|vk|vkontakte|ok|odnoklassniki|telegram|tg|twitter|x|linkedin|youtube|tiktok|pinterest|reddit|mytarget|my_target|meta)$/.test(source) || SOCIAL.test(source);
}

/** Groups one landing into a channel, with the normalised source / medium / campaign. */
export function classify(t: Touch): Classified {
  const source = t.utmSource.trim().toLowerCase();
  const medium = t.utmMedium.trim().toLowerCase();
  const campaign = t.utmCampaign.trim();
  const refHost = t.referrerHost !== undefined ? bareHost(t.referrerHost) : hostOf(t.referrer);
  const pageHost = bareHost(t.pageHost);
  const external = refHost !== '' && refHost !== pageHost;

  // 1. UTM medium is the advertiser's own statement; it wins when it is specific.
  if (medium) {
    const src = source || CLICK_ID_RULES[t.clickIdName]?.source || refHost || '(not set)';
    let channel: Channel;
    if (PAID_SOCIAL_MEDIUM.test(medium)) channel = 'paid_social';
    else if (PAID_MEDIUM.test(medium)) channel = isSocialSource(src) ? 'paid_social' : 'paid_search';
    else if (DISPLAY_MEDIUM.test(medium)) channel = 'display';
    else if (EMAIL_MEDIUM.test(medium)) channel = 'email';
    else if (SOCIAL_MEDIUM.test(medium)) channel = 'social';
    else if (AFFILIATE_MEDIUM.test(medium)) channel = 'affiliate';
    else if (medium === 'organic') channel = 'organic_search';
    else if (medium === 'referral') channel = 'referral';
    else channel = CLICK_ID_RULES[t.clickIdName]?.channel ?? 'other_campaign';
    return { channel, source: src, medium, campaign };
  }
  // 2. A click id without a medium: the ad platform that added it.
  const byClick = CLICK_ID_RULES[t.clickIdName];
  if (byClick) {
    return { channel: byClick.channel, source: source || byClick.source, medium: byClick.channel === 'social' ? 'social' : 'cpc', campaign };
  }
  // 3. A utm_source alone still marks a campaign.
  if (source) {
    const channel: Channel = isSearchSource(source) ? 'paid_search' : isSocialSource(source) ? 'social' : 'other_campaign';
    return { channel, source, medium: '(not set)', campaign };
  }
  // 4. No tags: the referrer.
  if (external) return byReferrer(refHost);
  return DIRECT;
}

const DIRECT: Classified = Object.freeze({ channel: 'direct', source: '(direct)', medium: '(none)', campaign: '' });

/**
 * The verdict on a referrer host, remembered (shared, so frozen): most untagged
 * traffic comes from a few hosts (search engines, social networks), and the
 * rules are regular expressions.
 */
const byReferrer = remember((refHost): Classified => {
  if (WEBMAIL.test(refHost)) return Object.freeze({ channel: 'email', source: refHost, medium: 'email', campaign: '' });
  if (SEARCH_ENGINES.test(refHost)) return Object.freeze({ channel: 'organic_search', source: searchName(refHost), medium: 'organic', campaign: '' });
  if (SOCIAL.test(refHost)) return Object.freeze({ channel: 'social', source: refHost, medium: 'social', campaign: '' });
  return Object.freeze({ channel: 'referral', source: refHost, medium: 'referral', campaign: '' });
}, 5000);

/** `www.google.co.uk` -> `google`, `yandex.ru` -> `yandex`, `ya.ru` -> `yandex`. */
function searchName(host: string): string {
  if (/(^|\.)ya\.ru$/.test(host)) return 'yandex';
  if (host.endsWith('go.mail.ru')) return 'mail.ru';
  const m = /(?:^|\.)(google|yandex|bing|duckduckgo|yahoo|baidu|ecosia|rambler|brave|startpage|naver|seznam)\./.exec(host);
  return m ? m[1]! : host;
}
