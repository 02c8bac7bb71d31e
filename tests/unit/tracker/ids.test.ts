// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { gaClientId, readIds, ymUid } from '../../../tracker/src/ids.js';

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0]!.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

describe('tracker ids', () => {
  afterEach(clearCookies);
  it('extracts the GA client id from _ga', () => {
    expect(gaClientId('GA1.2.908899769.1600020018')).toBe('908899769.1600020018');
    expect(gaClientId('GA1.1.1.2')).toBe('1.2');
  });
  it.each([undefined, '', 'GA1.2.abc.def', '908899769.1600020018', 'GA1.2.1.2.3', 'GA1.2.1'])('is empty for malformed _ga %s', (v) => {
    expect(gaClientId(v)).toBe('');
  });
  it('accepts only digits as _ym_uid', () => {
    expect(ymUid('1551977723718998723')).toBe('1551977723718998723');
    expect(ymUid('15519x')).toBe('');
  });
  it('reads both cookies from the document', () => {
    document.cookie = '_ga=GA1.2.908899769.1600020018; path=/';
    document.cookie = '_ym_uid=1551977723718998723; path=/';
    expect(readIds()).toEqual({ g: '908899769.1600020018', y: '1551977723718998723' });
  });
});
