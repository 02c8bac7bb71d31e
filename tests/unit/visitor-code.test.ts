// The visitor id as a promo code (issue #15, point 6): the page shows the id, a
// caller reads it out on the phone and a sales manager types it into the CRM's
// visitor-id field. The collector reads what was typed like any visitor id, but
// forgives what a person adds: case, spaces and dashes (and their Unicode kin),
// full-width letters of a CJK input method. Nothing else: 0/O/1/I/L are in no id,
// so a typed O for a 0 cannot be mended, only reported. The hit wire and the
// e-mail tags, written by the tracker, keep the exact rule (visitorId).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALPHABET, ID_LENGTH, visitorCode, visitorId } from '../../contract/ids.js';
import { emptyDeal, type CrmField } from '../../collector/src/crm/change.js';
import { loadCrmConfig } from '../../collector/src/crm/config/schema.js';
import type { DealRow } from '../../collector/src/crm/deals/store.js';
import { identityIds } from '../../collector/src/crm/fields/select.js';
import { unusableOf } from '../../collector/src/crm/status/unusable.js';

/** What a person may put around and between the characters: all of it is ignored. */
const SEPARATORS = [
  ' ', '\t', '\n', '\u00a0' /* NBSP */, '\u202f' /* narrow NBSP */, '\u2009' /* thin space */, '\u3000' /* ideographic */, '\ufeff' /* BOM */,
  '\u200b' /* zero width space */, '\u2060' /* word joiner */, '\u00ad' /* soft hyphen */,
  '-', '\u2010' /* hyphen */, '\u2011' /* non-breaking hyphen */, '\u2012' /* figure dash */, '\u2013' /* en */, '\u2014' /* em */,
  '\u2015' /* bar */, '\u2212' /* minus */, '\ufe63' /* small hyphen-minus */, '\uff0d' /* full-width hyphen-minus */,
];
const fullWidth = (c: string) => String.fromCharCode(c.charCodeAt(0) + 0xfee0);

/** A valid id as typed: each character in either case or full width, separators anywhere. */
const typedId = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...ALPHABET), fc.constantFrom('upper', 'lower', 'wide', 'wide lower')), { minLength: ID_LENGTH, maxLength: ID_LENGTH }),
    fc.array(fc.array(fc.constantFrom(...SEPARATORS), { maxLength: 3 }).map((s) => s.join('')), { minLength: ID_LENGTH + 1, maxLength: ID_LENGTH + 1 }),
  )
  .map(([chars, gaps]) => {
    const id = chars.map(([c]) => c).join('');
    const shown = chars.map(([c, how]) => (how === 'upper' ? c : how === 'lower' ? c.toLowerCase() : how === 'wide' ? fullWidth(c) : fullWidth(c.toLowerCase())));
    return { id, typed: gaps.map((g, i) => g + (shown[i] ?? '')).join('') };
  });

describe('visitorCode: a visitor id as a person types it', () => {
  it('reads the spellings a manager types', () => {
    const typed = ['AB23CD', 'ab 23-cd', ' AB23CD ', 'ab\u201323\u2014cd', 'AB\u00a023\u00a0CD', 'ab-23-cd\n', 'Ａｂ２３－ｃＤ', '\u200bab23cd\u200b'];
    for (const v of typed) expect(visitorCode(v), JSON.stringify(v)).toBe('AB23CD');
  });

  it('reads back any valid id with any case, width and spaces or dashes anywhere', () => {
    fc.assert(fc.property(typedId, ({ id, typed }) => visitorCode(typed) === id), { numRuns: 2000 });
  });

  it('leaves 0, O, 1, I and L invalid: they are in no id, so no guess can be right', () => {
    for (const c of '0Oo1IiLl') expect(visitorCode(`AB2${c}CD`)).toBe('');
    expect(visitorCode('AB23C0')).toBe('');
    fc.assert(
      fc.property(typedId, fc.constantFrom(...'0Oo1IiLl'), fc.nat(), ({ typed }, bad, at) => {
        const i = at % (typed.length + 1);
        return visitorCode(typed.slice(0, i) + bad + typed.slice(i)) === '';
      }),
    );
  });

  it('forgives nothing but case, width, spaces and dashes', () => {
    const none = [
      '', '   ', '--', '\u2014', undefined, 'AB23C', 'AB23CDE', 'AB 23 CD E', 'AB_23_CD', 'AB.23.CD', 'AB/23/CD', 'AB23CD!', '#AB23CD', '"AB23CD"',
      'Code: AB23CD', 'АВ23СD' /* Cyrillic А, В, С */, 'AB²3CD', 'AB23ⒸD', 'AB23\u212aD' /* Kelvin sign */, 'AB2\u017f3CD' /* long s */, 'AB23CD\u0301',
    ];
    for (const v of none) expect(visitorCode(v), JSON.stringify(v)).toBe('');
  });

  it('answers an id in its stored form or nothing, for any text, and keeps to what was typed', () => {
    const kept = new Set([...SEPARATORS, ...ALPHABET, ...ALPHABET.toLowerCase()].flatMap((c) => (ALPHABET.includes(c.toUpperCase()) ? [c, fullWidth(c)] : [c])));
    const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom(...kept, 'O', '0', '_', '.', 'А') }));
    fc.assert(
      fc.property(text, (s) => {
        const code = visitorCode(s);
        if (code === '') return true;
        // A code is the stored form of an id, reads as itself, and every character typed was kept or is a separator.
        const letters = [...s].filter((c) => !SEPARATORS.includes(c) && !/[\s\p{Pd}]/u.test(c));
        return visitorId(code) === code && visitorCode(code) === code && letters.every((c) => kept.has(c)) && letters.length === ID_LENGTH;
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves visitorId exact: the tracker, the hit wire and the e-mail tags write the id, nobody types it there', () => {
    expect(visitorId('ab 23-cd')).toBe('');
    expect(visitorId('Ａｂ２３ｃＤ')).toBe('');
    expect(visitorId('ab23cd')).toBe('AB23CD');
  });
});

const SECRET = 's'.repeat(24);
/** A source that names its own promo-code field: the tracker's default names are read after it. */
const source = loadCrmConfig({ sources: { shop: { kind: 'import', secret: SECRET, identityFields: { visitor_id: ['Promo code'] } } } }).raw.sources.shop!;

function deal(fields: Record<string, string>) {
  const d = emptyDeal('42', 'update');
  d.fields = Object.entries(fields).map(([name, value]): CrmField => ({ id: '', name, code: '', value }));
  return d;
}

/** The stored row's ids as ingest makes them from the deal (the rest of the row does not matter here). */
function rowOf(d: ReturnType<typeof deal>): DealRow {
  const ids = identityIds(d, source.identityFields);
  return { deleted: 0, stage: 'Lead', status_id: 'new', pipeline_id: 'p', visitor_id: ids.visitor_id, ga_cid: ids.ga_cid, ym_uid: ids.ym_uid, email_hashes: [], phone_hashes: [], contact_ids: [] } as unknown as DealRow;
}

const invalid = (typed: string) => ({ record: '42', reason: 'visitor_id_invalid', detail: `visitor_id ${JSON.stringify(typed)} is not a visitor id (6 of ${ALPHABET}, spaces and dashes aside); dropped` });

describe('the CRM reader takes the promo code', () => {
  it('reads a typed code from the source’s field and from the tracker’s tl_vid', () => {
    expect(identityIds(deal({ 'Promo code': 'ab 23-cd' }), source.identityFields).visitor_id).toBe('AB23CD');
    expect(identityIds(deal({ tl_vid: 'hk7m–9p' }), source.identityFields).visitor_id).toBe('HK7M9P');
  });

  it('names a code that is no id, keeping the deal’s other ids', () => {
    const d = deal({ 'Promo code': 'AB23C0', tl_ga: 'GA1.2.908899769.1600020018' });
    const row = rowOf(d);
    expect(row).toMatchObject({ visitor_id: '', ga_cid: '908899769.1600020018' });
    expect(unusableOf('42', d, source, row)).toEqual([invalid('AB23C0')]);
  });

  it('names a mistyped code even when the form’s tl_vid gave the deal a visitor id', () => {
    const d = deal({ 'Promo code': 'AB-23-CO', tl_vid: 'HK7M9P' });
    const row = rowOf(d);
    expect(row.visitor_id).toBe('HK7M9P');
    expect(unusableOf('42', d, source, row)).toEqual([invalid('AB-23-CO')]);
  });

  it('names a broken value under a default name too, and nothing for a field of dashes ("no code")', () => {
    const d = deal({ 'Promo code': ' - ', visitor_id: 'AB23CDX' });
    expect(unusableOf('42', d, source, rowOf(d))).toEqual([
      invalid('AB23CDX'),
      { record: '42', reason: 'no_identity', detail: 'no visitor, GA or Metrika id, e-mail, phone or contact: the deal cannot be attributed' },
    ]);
  });
});
