// Calculated fields (a safe expression library, never eval), filters, kept
// custom fields and identity fields of a deal.
import { describe, expect, it } from 'vitest';
import { emptyDeal, type DealChange } from '../../collector/src/crm/change.js';
import { loadCrmConfig } from '../../collector/src/crm/config/schema.js';
import { compileFormula, toNumber } from '../../collector/src/crm/fields/calculated.js';
import { calculate, failedFilter, gaClientId, identityIds, keptFields } from '../../collector/src/crm/fields/select.js';
import { toMinor } from '../../collector/src/crm/money.js';

const SECRET = 's'.repeat(24);

function deal(fields: Record<string, string>, amountMinor = 2250000): DealChange {
  const d = emptyDeal('1', 'update');
  d.amountMinor = amountMinor;
  d.fields = Object.entries(fields).map(([name, value], i) => ({ id: String(1000 + i), name, code: name === 'UTM' ? 'UTM_SOURCE' : '', value }));
  return d;
}

describe('calculated fields', () => {
  it('computes arithmetic over the amount and numeric fields', () => {
    const f = compileFormula({ name: 'margin', formula: '(amount - cost) / amount * 100', variables: { cost: 'Себестоимость' } });
    expect(f.evaluate(new Map([['amount', 200], ['cost', 150]]))).toBe(25);
    const max = compileFormula({ name: 'm', formula: 'max(a, b) + abs(-2) + round(2.6) + 7 % 4 + 2^3', variables: { a: 'A', b: 'B' } });
    expect(max.evaluate(new Map([['a', 1], ['b', 5]]))).toBe(5 + 2 + 3 + 3 + 8);
  });

  const refused: [string, RegExp][] = [
    ['amount +', /does not parse/],
    ['x = 5', /AssignmentNode is not allowed/],
    ['import({})', /function "import" is not allowed/],
    ['evaluate("1")', /function "evaluate" is not allowed/],
    ['"a" + 1', /only numbers/],
    ['cost * 2', /unknown variable "cost"/],
    ['amount > 5', /operator ">" is not allowed/],
    ['f(x) = x', /FunctionAssignmentNode is not allowed/],
    ['[1, 2]', /ArrayNode is not allowed/],
    ['amount.constructor', /AccessorNode is not allowed|does not parse/],
    ['constructor + 1', /unknown variable "constructor"/],
    ['toString * 2', /unknown variable "toString"/],
    ['__proto__', /unknown variable "__proto__"/],
    ['round(amount, 2, 3)', /cannot be evaluated: Too many arguments/],
  ];
  for (const [formula, message] of refused) {
    it(`refuses ${formula}`, () => {
      expect(() => compileFormula({ name: 'x', formula, variables: {} })).toThrow(message);
    });
  }

  it('reports formula errors when the configuration is loaded', () => {
    expect(() =>
      loadCrmConfig({ sources: { s: { kind: 'import', secret: SECRET, calculated: [{ name: 'margin', formula: 'amount - cost' }] } } }),
    ).toThrow(/sources\.s\.calculated\.0: formula of "margin": unknown variable "cost"/);
  });

  it('evaluates per deal and says when an input is not a number', () => {
    const cfg = loadCrmConfig({
      sources: { s: { kind: 'import', secret: SECRET, calculated: [{ name: 'margin', formula: 'amount - cost', variables: { cost: 'Себестоимость' } }] } },
    });
    const calc = (d: DealChange) => calculate(d, cfg.formulas.get('s')!, cfg.raw.sources.s!.calculated);
    expect(calc(deal({ Себестоимость: '15 000,50' }))).toEqual({ values: [{ id: '', name: 'margin', code: '', value: '7499.5' }], errors: [] });
    expect(calc(deal({ Себестоимость: 'n/a' })).errors).toEqual(['margin: Себестоимость is not a number']);
    expect(calc(deal({})).values).toEqual([]);
  });

  it('14. a variable is an own key of variables: one declared as constructor reads its field', () => {
    const cfg = loadCrmConfig({
      sources: { s: { kind: 'import', secret: SECRET, calculated: [{ name: 'double', formula: 'constructor * 2', variables: { constructor: 'Cost' } }] } },
    });
    expect(calculate(deal({ Cost: '21' }), cfg.formulas.get('s')!, cfg.raw.sources.s!.calculated).values).toEqual([{ id: '', name: 'double', code: '', value: '42' }]);
  });

  it('reads numbers written with spaces and commas', () => {
    expect([toNumber('1 234,5'), toNumber('-3'), toNumber('abc'), toNumber(undefined)]).toEqual([1234.5, -3, null, null]);
  });
});

describe('filters, kept fields, identity fields', () => {
  const d = deal({ LANDING: 'site-1', UTM: 'yandex', Visitor: 'ab23cd', 'GA client': 'GA1.2.908899769.1600020018', Ym: '1551977723718998723', Comment: 'call after 6' });

  it('includes a deal only when every filter holds (by name, id or code, any case)', () => {
    expect(failedFilter(d, [{ field: 'landing', equals: 'site-1' }])).toBeNull();
    expect(failedFilter(d, [{ field: '1000', equals: 'site-1' }])).toBeNull();
    expect(failedFilter(d, [{ field: 'utm_source', equals: 'yandex' }])).toBeNull();
    expect(failedFilter(d, [{ field: 'LANDING', equals: 'site-1' }, { field: 'LANDING', equals: 'site-2' }])).toBe('LANDING != site-2');
    expect(failedFilter(d, [{ field: 'Missing', equals: '' }])).toBe('Missing != ');
  });

  it('keeps every custom field when none is chosen, else only the chosen ones', () => {
    expect(keptFields(d, [])).toHaveLength(6);
    expect(keptFields(d, ['comment', 'UTM_SOURCE']).map((f) => f.name)).toEqual(['UTM', 'Comment']);
  });

  it('takes the identity ids from the configured fields', () => {
    const cfg = loadCrmConfig({
      sources: {
        s: { kind: 'import', secret: SECRET, identityFields: { visitor_id: ['Visitor'], ga_cid: ['GA client'], ym_uid: ['Ym'], utm_source: ['utm_source'] } },
      },
    });
    expect(identityIds(d, cfg.raw.sources.s!.identityFields)).toMatchObject({
      visitor_id: 'AB23CD',
      ga_cid: '908899769.1600020018',
      ym_uid: '1551977723718998723',
      utm_source: 'yandex',
      utm_medium: '',
    });
    expect(gaClientId('908899769.1600020018')).toBe('908899769.1600020018');
  });
});

describe('money in minor units', () => {
  it('converts from the decimal text, not through floats', () => {
    expect(toMinor(22500)).toBe(2250000);
    expect(toMinor('1 500,5')).toBe(150050);
    expect(toMinor('0.29')).toBe(29);
    expect(toMinor(0.29)).toBe(29);
    expect(toMinor('12.345')).toBe(1235);
    expect(toMinor('-10.01')).toBe(-1001);
    expect(toMinor('abc')).toBeNull();
    expect(toMinor('')).toBeNull();
    expect(toMinor(Number.NaN)).toBeNull();
  });
});
