// The cookies a first-party answer sets (collector/src/first-party/cookies.ts),
// for the inputs the integration test cannot easily send: hostile cookies and
// addresses, and the Host forms a forwarding server may pass.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieLine, firstPartyRequest, hitCookies, requestCookie, type FirstPartyRequest } from '../../collector/src/first-party/cookies.js';
import { forwarded } from '../../collector/src/http/forwarded.js';

const site = { domain: 'shop.example', secure: false };
const fp = (cookie?: string): FirstPartyRequest => ({ site, cookie });
const req = (headers: Record<string, string>, remoteAddress = '10.0.0.1') => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('first-party cookies', () => {
  it('reads a cookie the tracker percent-encoded; a malformed one is absent, not an error', () => {
    expect(requestCookie(fp('tl_ft=a%20b; x=1'), 'tl_ft')).toBe('a b');
    expect(requestCookie(fp('tl_ft=%E0%A4%A'), 'tl_ft')).toBeUndefined();
    expect(requestCookie(fp(undefined), 'tl_ft')).toBeUndefined();
  });

  it('writes values percent-encoded, so a hostile value cannot add an attribute or a cookie', () => {
    expect(cookieLine('tl_lt', 'x; Domain=evil.example\r\nSet-Cookie: a=b', 90, site)).toBe(
      'tl_lt=x%3B%20Domain%3Devil.example%0D%0ASet-Cookie%3A%20a%3Db; Max-Age=7776000; Path=/; Domain=shop.example; SameSite=Lax',
    );
  });

  it('a hit whose address is not a URL, or not a string, renews the id and sets no touch', () => {
    expect(hitCookies(fp(), { visitorId: 'AB23CD', href: 'not a url', referrer: '' }, 90)).toHaveLength(1);
    expect(hitCookies(fp(), { visitorId: '', href: 42, referrer: null }, 90)).toEqual([]);
  });

  it('the host a forwarding server names counts only when it is trusted; ports and IPv6 brackets are no part of the domain', () => {
    const trusting = forwarded(['10.0.0.0/8']);
    // A proxy that appends (Apache) leaves what the browser sent in front: the last value is the proxy's.
    expect(firstPartyRequest(req({ host: 'collector:8080', 'x-forwarded-host': 'evil.example, WWW.Shop.co.uk' }), trusting).site.domain).toBe('shop.co.uk');
    expect(firstPartyRequest(req({ host: 'www.shop.example:8443', 'x-forwarded-host': 'evil.example' }, '192.0.2.1'), trusting).site.domain).toBe('shop.example');
    expect(firstPartyRequest(req({ host: '[::1]:8080' }), trusting).site.domain).toBeNull();
    expect(firstPartyRequest(req({ host: '203.0.113.9' }), trusting).site.domain).toBeNull();
    expect(firstPartyRequest(req({ host: 'user.github.io' }), trusting).site.domain).toBe('user.github.io');
    expect(firstPartyRequest(req({ 'x-forwarded-proto': 'https', host: 'shop.example' }), trusting).site.secure).toBe(true);
    expect(firstPartyRequest(req({ 'x-forwarded-proto': 'https, http', host: 'shop.example' }), trusting).site.secure).toBe(false);
    expect(firstPartyRequest(req({ 'x-forwarded-proto': 'https', host: 'shop.example' }, '192.0.2.1'), trusting).site.secure).toBe(false);
  });
});
