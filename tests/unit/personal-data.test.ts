// The pure rules behind the wire and privacy points: text and URL cleaning, id
// rules, the recogniser of personal data, URL redaction and its configuration.
import fc from 'fast-check';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../collector/src/config.js';
import { cleanText, cleanUrl } from '../../collector/src/hits/text.js';
import { isWireError, parseHit } from '../../collector/src/hits/wire.js';
import { ID_RULES } from '../../collector/src/identity/ids.js';
import { contactHash } from '../../collector/src/identity/hash.js';
import { hasPhone, personalName } from '../../collector/src/privacy/personal.js';
import { UrlRedactor } from '../../collector/src/privacy/url.js';

const good = { s: 'demo', k: 'visit', e: 'abcdefgh12', t: 1_764_000_000_123, u: 'https://a.example/' };

describe('text from the wire', () => {
  it('makes free text well-formed and drops control characters', () => {
    expect(cleanText('a\ud800b\u0000c\u0085d\u200de\u{1F600}')).toBe('a\ufffdbcd\u200de\u{1F600}');
    expect(cleanText('plain')).toBe('plain');
  });
  it('reads a URL with control characters as a browser would, and refuses one that does not parse', () => {
    expect(cleanUrl('https://a.example/p\u0000?q=\u0007#\t')).toBe('https://a.example/p%00?q=%07#');
    expect(cleanUrl('https://a.example/\ud800')).toBe('https://a.example/\ufffd');
    expect(cleanUrl('https://exa\u0000mple.com/')).toBeNull();
  });
});

describe('ids', () => {
  it.each([
    ['visitor_id', ' ab23cd ', 'AB23CD'],
    ['visitor_id', 'AB1CD0', null],
    ['visitor_id', 'ABCDEFGHJKMNPQRS', null],
    ['ga_cid', '908899769.1600020018', '908899769.1600020018'],
    ['ga_cid', 'GA1.2.908899769.1600020018', '908899769.1600020018'], // the contract's GA rule: a raw _ga cookie reads as its client id
    ['ga_cid', 'GA1.2.908899769', null],
    ['ym_uid', '1551977723718998723', '1551977723718998723'],
    ['ym_uid', '155a', null],
    ['ga_cid', `${'1'.repeat(40)}.${'1'.repeat(24)}`, null], // 65 characters: longer than any id is kept
    ['ym_uid', '1'.repeat(65), null],
    ['ym_uid', '1'.repeat(64), '1'.repeat(64)],
  ] as const)('%s %j → %j', (field, raw, stored) => expect(ID_RULES[field](raw)).toBe(stored));
  it('removes a bad id from the hit, keeps the hit and records why', () => {
    const h = parseHit(JSON.stringify({ ...good, v: '\ud800', g: 5, y: '33' }));
    if (isWireError(h)) throw new Error(h.reason);
    expect([h.visitorId, h.gaCid, h.ymUid]).toEqual(['', '', '33']);
    expect(h.dropped).toEqual([{ field: 'visitor_id', reason: 'malformed' }, { field: 'ga_cid', reason: 'malformed' }]);
  });
});

describe('personal data', () => {
  it('knows contact fields whatever their case or spelling', () => {
    for (const n of ['email', 'Email', 'e-mail', 'E_MAIL', 'user_email']) expect(personalName(n)).toBe('email');
    for (const n of ['phone', 'tel', 'Phone_Number', 'telephone', 'mobile']) expect(personalName(n)).toBe('phone');
    for (const n of ['name', 'First-Name', 'fio']) expect(personalName(n)).toBe('name');
    for (const n of ['id', 'action', 'hotel', 'page', 'utm_source']) expect(personalName(n)).toBeNull();
  });
  it('takes a phone number for one only when it is a valid number, not any run of digits', () => {
    expect(hasPhone('call +7 (916) 123-45-67', 'RU')).toBe(true);
    expect(hasPhone('89161234567', 'RU')).toBe(true);
    expect(hasPhone('1700000000000', 'RU')).toBe(false);
    expect(hasPhone('12345678', 'RU')).toBe(false);
  });
  it('the cheap test before libphonenumber never changes its answer, in any numbering plan', () => {
    // What hasPhone would answer without the gate: libphonenumber on every run of 7-15 digits.
    const plain = (run: string, country: CountryCode) => parsePhoneNumberFromString(run, country)?.isValid() === true;
    const countries: CountryCode[] = ['RU', 'US', 'DE', 'GB', 'KZ', 'BY', 'AR', 'MX', 'IN', 'BR', 'FR', 'IT'];
    const run = fc.tuple(fc.constantFrom('', '+', '8', '7', '00', '810', '0'), fc.stringMatching(/^[0-9]{6,14}$/)).map(([lead, digits]) => lead + digits);
    fc.assert(
      fc.property(run, fc.constantFrom(...countries), (r, country) => {
        const digits = r.replace(/\D/g, '').length;
        const expected = digits >= 7 && digits <= 15 && plain(r, country);
        expect(hasPhone(r, country)).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
    // Real numbers of each plan, written nationally and internationally, still count.
    for (const [country, numbers] of Object.entries({ RU: ['89161234567', '79161234567', '9161234567', '+79161234567'], US: ['2015550123', '12015550123', '+12015550123'], DE: ['030123456', '+4930123456'] })) {
      for (const n of numbers) expect(hasPhone(n, country as CountryCode), `${country} ${n}`).toBe(true);
    }
  });
  it('never hashes under an empty key', () => {
    expect(() => contactHash('email', 'a@b.ru', '')).toThrow(/identity key/);
  });
});

describe('URL redaction', () => {
  const r = new UrlRedactor(['member_code']);
  it('leaves a URL with nothing personal as the same string', () => {
    for (const u of ['https://a.example/', 'https://a.example/p?sort=price&page=2', 'https://a.example/?utm_source=x&gclid=1#top']) expect(r.redact(u)).toBe(u);
  });
  it('redacts named parameters, contact-like values and the fragment, and keeps UTM tags and click ids', () => {
    expect(r.redact('https://a.example/?email=a%40b.ru&utm_term=a%40b.ru&yclid=79161234567&x=1')).toBe('https://a.example/?email=redacted&utm_term=a%40b.ru&yclid=79161234567&x=1');
    expect(r.redact('https://a.example/?q=%2B7%20916%20123-45-67&Member-Code=7')).toBe('https://a.example/?q=redacted&Member-Code=redacted');
    expect(r.redact('https://a.example/#/done?tel=89161234567')).toBe('https://a.example/#/done?tel=redacted');
    expect(r.redact('https://a.example/?a=1#a@b.ru')).toBe('https://a.example/?a=1#redacted');
  });
});

describe('configuration', () => {
  it('reads URL_REDACT_PARAMS and refuses what is not a list of names', () => {
    expect(loadConfig({ URL_REDACT_PARAMS: 'member_code, order-token' }).pipeline.urlRedactParams).toEqual(['member_code', 'order-token']);
    expect(loadConfig({}).pipeline.urlRedactParams).toEqual([]);
    expect(() => loadConfig({ URL_REDACT_PARAMS: 'a b' })).toThrow(/URL_REDACT_PARAMS/);
  });
  it('leaves the identity key to start-up when unset, and refuses the published example key', () => {
    expect(loadConfig({}).identity.key).toBe('');
    expect(() => loadConfig({ IDENTITY_KEY: 'throughline-development-key-change-me' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDENTITY_KEY: 'throughline-development-key-change-me' })).toThrow(/IDENTITY_KEY/);
  });
});
