import { describe, expect, it } from 'vitest';
import { dateTime, ident, num, str, toDateTimeString } from '../../collector/src/clickhouse/sql.js';

describe('sql escaper', () => {
  it('escapes backslash before quote, so a trailing backslash cannot eat the quote', () => {
    expect(str("a\\' OR 1=1 --")).toBe("'a\\\\\\' OR 1=1 --'");
    expect(str("it's")).toBe("'it\\'s'");
    expect(str('{x:String}')).toBe("'{x:String}'");
  });
  it('replaces lone surrogates, which would fail a whole ClickHouse batch', () => {
    expect(str('a\ud800b')).toBe("'a\ufffdb'");
  });
  it('refuses non-finite numbers, malformed dates and odd identifiers', () => {
    expect(num(12.5)).toBe('12.5');
    expect(() => num(Number.NaN)).toThrow(/finite/);
    expect(() => num(Infinity)).toThrow(/finite/);
    expect(dateTime('2026-01-02 03:04:05')).toBe("'2026-01-02 03:04:05'");
    expect(() => dateTime("2026-01-02' OR 1")).toThrow(/date/);
    expect(ident('hits_2')).toBe('hits_2');
    expect(() => ident('hits; DROP TABLE x')).toThrow(/identifier/);
  });
  it('formats DateTime in UTC without milliseconds', () => {
    expect(toDateTimeString(Date.UTC(2026, 10, 23, 8, 5, 9, 123))).toBe('2026-11-23 08:05:09');
  });
});
