// @vitest-environment jsdom
import Cookies from 'js-cookie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCookie, setCookie } from '../../../tracker/src/cookies.js';
import { clearCookies } from './dom.js';

describe('tracker cookies', () => {
  afterEach(clearCookies);

  it('writes and reads back any string, JSON included', () => {
    const value = JSON.stringify({ l: 'https://x.ru/?utm_source=я&b=1; c', r: '' });
    setCookie('tl_lt', value, 90);
    expect(getCookie('tl_lt')).toBe(value);
    expect(getCookie('absent')).toBeUndefined();
  });

  it('matches the whole cookie name, not a suffix or prefix', () => {
    document.cookie = 'x_ga=1; path=/';
    document.cookie = '_ga2=2; path=/';
    expect(getCookie('_ga')).toBeUndefined();
    document.cookie = '_ga=3; path=/';
    expect(getCookie('_ga')).toBe('3');
  });

  it('reads what js-cookie writes, and js-cookie reads what it writes', () => {
    Cookies.set('from_lib', 'a b;c=д+%');
    expect(getCookie('from_lib')).toBe('a b;c=д+%');
    setCookie('from_tracker', '{"l":"https://x/?a=1&b=2"}', 1);
    expect(Cookies.get('from_tracker')).toBe('{"l":"https://x/?a=1&b=2"}');
  });

  it('deletes with a negative lifetime', () => {
    setCookie('tl_optout', '1', 400);
    expect(getCookie('tl_optout')).toBe('1');
    setCookie('tl_optout', '', -1);
    expect(getCookie('tl_optout')).toBeUndefined();
  });

  it('treats a malformed %-sequence as absent', () => {
    document.cookie = 'bad=%E0%A4%A; path=/';
    expect(getCookie('bad')).toBeUndefined();
  });

  it('never throws when the cookie jar throws (sandboxed iframe, blocked cookies)', () => {
    const get = vi.spyOn(Document.prototype, 'cookie', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    const set = vi.spyOn(Document.prototype, 'cookie', 'set').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    try {
      expect(getCookie('_ga')).toBeUndefined();
      expect(() => setCookie('tl_vid', 'AB12CD', 400)).not.toThrow();
    } finally {
      get.mockRestore();
      set.mockRestore();
    }
  });
});
