// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { gaClientId, visitorId, ymUid } from '../../../tracker/src/ids.js';

describe('tracker ids', () => {
  it('extracts the GA client id from _ga', () => {
    expect(gaClientId('GA1.2.908899769.1600020018')).toBe('908899769.1600020018');
    expect(gaClientId('GA1.1.1.2')).toBe('1.2');
    expect(gaClientId('GA1.3.123456789.1700000000')).toBe('123456789.1700000000');
  });
  it('takes a client id already without its prefix (a data-ga-cookie holding one, the hidden field tl_ga) as it is', () => {
    expect(gaClientId('908899769.1600020018')).toBe('908899769.1600020018');
  });
  it.each([undefined, '', 'GA1.2.abc.def', 'GA1.2.1.2.3', 'GA1.2.1', 'GA1.2.908899769.1600020018;', '%47A1.2.1.2', 'GS1.1.1700000000.1.1.1700000000.0.0.0'])(
    'is empty for malformed _ga %s',
    (v) => {
      expect(gaClientId(v)).toBe('');
    },
  );
  // Lengths are the collector's to bound (collector/src/identity/ids.ts): the tracker pays for every byte of a pattern.
  it('accepts only digits as _ym_uid', () => {
    expect(ymUid('1551977723718998723')).toBe('1551977723718998723');
    expect(ymUid('15519x')).toBe('');
    expect(ymUid(undefined)).toBe('');
  });
  it('accepts visitor ids case-insensitively, from the 31-letter alphabet only', () => {
    expect(visitorId('AB23CD')).toBe('AB23CD');
    expect(visitorId('ab23cd')).toBe('AB23CD');
    for (const bad of [' AB23CD', 'AB12CD', 'ABOCDE', 'ABICDE', 'ABLCDE', 'AB0CDE', 'ABCDE', 'ABCDEFG', '', undefined, '<b>x</b>']) {
      expect(visitorId(bad)).toBe('');
    }
  });
});
