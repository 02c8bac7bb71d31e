// CRM bodies read without losing a digit: a 19-digit Zoho id sent as a bare
// JSON number stays the id it is; every number a double holds exactly reads as
// JSON.parse reads it; the rest of JSON.parse's behaviour is kept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCrmJson } from '../../collector/src/crm/json.js';
import { dealFromZoho, zohoRecordError } from '../../collector/src/crm/zoho/record.js';
import { dealsFromBody } from '../../collector/src/crm/import/rows.js';

describe('parseCrmJson', () => {
  it('keeps a 19-digit id sent as a bare number exactly', () => {
    const body = parseCrmJson('{"data":[{"id":5725767000004318061,"Stage":"Qualification","Amount":1000.01}]}') as { data: Record<string, unknown>[] };
    expect(body.data[0]!.id).toBe('5725767000004318061');
    expect(body.data[0]!.Amount).toBe(1000.01);
    // What JSON.parse makes of the same text: the id the issue saw.
    expect(String((JSON.parse('{"id":5725767000004318061}') as { id: number }).id)).toBe('5725767000004318000');
  });

  it('reads every integer as its exact digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (n) => {
        const v = (parseCrmJson(`{"id":${n}}`) as { id: unknown }).id;
        expect(String(v)).toBe(String(n));
      }),
    );
  });

  it('reads every number a double holds exactly as JSON.parse does, and a whole number beyond 2^53 as its text', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = JSON.stringify({ x });
        const beyond = Number.isInteger(x) && !Number.isSafeInteger(x);
        expect(parseCrmJson(text)).toEqual(beyond ? { x: String(x) } : JSON.parse(text));
      }),
    );
  });

  it('keeps a long decimal amount as its exact text', () => {
    expect(parseCrmJson('12345678901234567.89')).toBe('12345678901234567.89');
  });

  it('takes the last of a repeated key and keeps __proto__ an own key, as JSON.parse does', () => {
    const text = '{"a":1,"a":2,"__proto__":{"polluted":true}}';
    const v = parseCrmJson(text) as Record<string, unknown>;
    expect(v).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what is not JSON', () => {
    for (const bad of ['', '{', '{"a":}', "{'a':1}", '[1,]', 'NaN']) expect(() => parseCrmJson(bad)).toThrow();
  });
});

describe('readers over exact numbers', () => {
  it('a Zoho deal with a bare 19-digit id is that deal', () => {
    const rec = (parseCrmJson('{"id":5725767000004318061,"Stage":"Qualification","Amount":22500}') as Record<string, unknown>);
    expect(zohoRecordError(rec)).toBeNull();
    const deal = dealFromZoho(rec, 'update');
    expect(deal.dealId).toBe('5725767000004318061');
    expect(deal.amountMinor).toBe(2250000);
  });

  it('an imported deal with a bare 19-digit id and a long amount is read exactly', () => {
    const body = parseCrmJson('{"deals":[{"id":5725767000004318061,"status":"won","updated_at":1718000000,"amount":12345678901234.56}]}');
    const read = dealsFromBody(body, false);
    expect('error' in read).toBe(false);
    if ('error' in read) return;
    expect(read.refused).toEqual([]);
    expect(read.deals[0]!.dealId).toBe('5725767000004318061');
    expect(read.deals[0]!.amountMinor).toBe(1234567890123456);
  });
});
