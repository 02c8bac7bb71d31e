// The page URL taken apart without a URL object per hit (hits/page.ts) must agree
// with the WHATWG parser: the same verdict, the same host, the same query pairs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageHost, pageSearch } from '../../collector/src/hits/page.js';

function parsed(url: string): { host: string; pairs: string[][] } | null {
  const u = URL.parse(url);
  return u && { host: u.hostname, pairs: [...u.searchParams] };
}

function ours(url: string): { host: string; pairs: string[][] } | null {
  const host = pageHost(url);
  return host === null ? null : { host, pairs: [...new URLSearchParams(pageSearch(url))].map(([k, v]) => [k.toWellFormed(), v.toWellFormed()]) };
}

describe('page URL', () => {
  it.each([
    'https://shop.example/catalog/item?id=1&utm_source=ya#top',
    'http://SHOP.Example:8080/?utm_campaign=a+b%20c',
    'https://user:pw@shop.example/p?x=1',
    'https://shop.example#frag?utm_source=not-a-query',
    'https://shop.example\\path?utm_source=back',
    'https://shop.example?q=1',
    'https://xn--80ak6aa92e.example/путь?метка=значение',
    'https://магазин.example/?a=1',
    'https://[::1]:3000/x?y=2',
    'https://192.168.0.1/?a=%zz&b=%FF',
    'https://exa\tmple.com/p?utm\t_source=x\ny',
    'https://shop.example:99999/',
    'https://sh op.example/',
    'https:///nohost',
    'https://[::1/',
    'https://%41.example/',
  ])('agrees with URL on %s', (url) => {
    expect(ours(url)).toEqual(parsed(url));
  });

  it('agrees with URL on generated URLs', () => {
    const part = fc.string({ unit: fc.constantFrom(...'aZ09.-_:@[]/\\?#&=%+ \t\né🙂\'"<>'.split(''), 'x', '%41', '%2', '%C3%A9', '\ud800', '\u0000') });
    fc.assert(
      fc.property(fc.constantFrom('http://', 'https://', 'HTTPS://'), part, part, (scheme, a, b) => {
        const url = `${scheme}${a}${b}`;
        expect(ours(url)).toEqual(parsed(url));
      }),
      { numRuns: 20000 },
    );
  });
});
