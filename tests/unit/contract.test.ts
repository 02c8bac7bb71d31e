// @vitest-environment jsdom
// One contract for the ids: what the tracker writes (its real modules, in
// jsdom) is fed to the collector's readers (the hit wire, the CRM field reader,
// the inbound-email tag reader, the visit limits), and both sides must read the
// same ids, the same click ids and the same fresh-landing answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshLanding } from '../../contract/campaign.js';
import { CLICK_ID_RULES } from '../../collector/src/channels/classify.js';
import { emptyDeal } from '../../collector/src/crm/change.js';
import { loadCrmConfig } from '../../collector/src/crm/config/schema.js';
import { identityIds } from '../../collector/src/crm/fields/select.js';
import { CLICK_IDS, toRow } from '../../collector/src/hits/row.js';
import { parseHit, type HitInput } from '../../collector/src/hits/wire.js';
import { extractVisitorId } from '../../collector/src/inbound-email/visitor-tag.js';
import type { HitContext } from '../../collector/src/pipeline/context.js';
import { limitQuery } from '../../collector/src/pipeline/steps/limits.js';
import { ALPHABET, randomVisitorId } from '../../collector/src/visitor-id/id.js';
import { FIELDS, fieldValues } from '../../tracker/src/forms.js';
import { gaClientId, visitorId, ymUid } from '../../tracker/src/ids.js';
import { plusMailto, tagMailto } from '../../tracker/src/contacts/mailto.js';
import { campaign, CAMPAIGN, nextTouches } from '../../tracker/src/touches.js';

const HOST = 'shop.example';
const SECRET = 's'.repeat(24);
/** A source with no identity fields configured: the defaults alone. */
const source = loadCrmConfig({ sources: { shop: { kind: 'import', secret: SECRET } } }).raw.sources.shop!;

/** The hidden fields the tracker puts into a form, by name, as the browser posts them (empty ones are not added). */
function posted(ids: { v: string; g: string; y: string }, landing: string): Record<string, string> {
  const values = fieldValues(ids, `${landing} https://www.google.com/`, `${landing} https://www.google.com/`);
  return Object.fromEntries(FIELDS.flatMap((name, i) => (values[i] ? [[name, values[i]!]] : [])));
}

/** A deal whose CRM fields are the posted form fields. */
function dealOf(fields: Record<string, string>) {
  const deal = emptyDeal('1', 'update');
  deal.fields = Object.entries(fields).map(([name, value]) => ({ id: '', name, code: '', value }));
  return deal;
}

/** The hit the tracker sends for a page, as the collector's wire reads it. */
function wireHit(ids: { v: string; g: string; y: string }, url: string): HitInput {
  const hit = parseHit(JSON.stringify({ s: 'shop', k: 'visit', e: 'abcdefgh12', t: 1_764_000_000_000, u: url, r: '', ...ids }));
  if ('reason' in hit) throw new Error(hit.detail);
  return hit;
}

const anyVisitorId = fc.array(fc.constantFrom(...ALPHABET, ...ALPHABET.toLowerCase()), { minLength: 6, maxLength: 6 }).map((a) => a.join(''));

describe('the visitor id: one alphabet and one normaliser', () => {
  it('the tracker accepts exactly the ids the collector issues, in either case', () => {
    for (let i = 0; i < 200; i++) {
      const id = randomVisitorId();
      expect(visitorId(id)).toBe(id);
      expect(visitorId(id.toLowerCase())).toBe(id);
    }
    for (const c of '01ILOilo-_ſ') expect(visitorId(`AB${c}3CD`)).toBe('');
    expect(visitorId('AB23C')).toBe('');
    expect(visitorId(undefined)).toBe('');
  });

  it('the wire, the CRM reader and the e-mail reader read the id the tracker keeps', () => {
    fc.assert(
      fc.property(anyVisitorId, (raw) => {
        const vid = visitorId(raw);
        expect(wireHit({ v: vid, g: '', y: '' }, `https://${HOST}/`).visitorId).toBe(vid);
        expect(identityIds(dealOf(posted({ v: vid, g: '', y: '' }, `https://${HOST}/`)), source.identityFields).visitor_id).toBe(vid);
        const subject = decodeURIComponent(/subject=([^&]*)/.exec(tagMailto('mailto:sales@site.ru?subject=Hello', vid))![1]!);
        expect(extractVisitorId(['sales@site.ru'], `Re: [Срочно] ${subject}`)).toBe(vid);
        const plus = plusMailto('mailto:sales@site.ru', vid).slice('mailto:'.length);
        expect(extractVisitorId([`Sales <${plus}>`], 'Question')).toBe(vid);
      }),
    );
  });
});

describe('GA and Metrika ids', () => {
  it('what the tracker reads from the cookies, the wire and the CRM reader keep as they are', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 10n }), fc.bigInt({ min: 1n, max: 10n ** 19n }), (a, b, m) => {
        const g = gaClientId(`GA1.2.${a}.${b}`);
        const y = ymUid(String(m));
        expect(g).toBe(`${a}.${b}`);
        const hit = wireHit({ v: '', g, y }, `https://${HOST}/`);
        expect([hit.gaCid, hit.ymUid]).toEqual([g, y]);
        const crm = identityIds(dealOf(posted({ v: '', g, y }, `https://${HOST}/`)), source.identityFields);
        expect([crm.ga_cid, crm.ym_uid]).toEqual([g, y]);
      }),
    );
  });

  it('the CRM reader takes a raw _ga cookie the way the tracker does, and nothing that is no GA id', () => {
    const crm = (v: string) => identityIds(dealOf({ _ga: v }), source.identityFields).ga_cid;
    expect(crm('GA1.2.908899769.1600020018')).toBe(gaClientId('GA1.2.908899769.1600020018'));
    expect(crm('not-a-ga-id')).toBe('');
  });
});

describe('click ids', () => {
  it('the tracker knows every click id the collector reads, and the channel rules name each', () => {
    expect([...CAMPAIGN].filter((n) => !n.startsWith('utm_'))).toEqual([...CLICK_IDS]);
    expect(Object.keys(CLICK_ID_RULES).sort()).toEqual([...CLICK_IDS].sort());
  });

  it.each([...CLICK_IDS])('a landing with only %s is a new campaign for the tracker and a hidden field', (name) => {
    const landing = `https://${HOST}/?${name}=CjwK123`;
    const [, last, fresh] = nextTouches(undefined, undefined, `${landing} `, HOST);
    expect(fresh).toBe(true);
    expect(last).toBe(`${landing} `);
    expect(posted({ v: '', g: '', y: '' }, landing)[name]).toBe('CjwK123');
    expect(toRow(wireHit({ v: '', g: '', y: '' }, landing), 0, { userAgent: '', ipHash: '' }).click_id_name).toBe(name);
  });
});

describe('the fresh-landing rule', () => {
  const params = [...CAMPAIGN, 'page', 'ref'];
  it('the tracker and the collector read the same campaign from any landing, and apply one rule to it', () => {
    fc.assert(
      fc.property(fc.subarray(params), fc.subarray(params), fc.constantFrom('x', 'y z', 'Привет'), (now, before, value) => {
        const url = (names: string[]) => `https://${HOST}/${names.length ? '?' : ''}${names.map((n) => `${n}=${encodeURIComponent(value)}`).join('&')}`;
        const landing = url(now);
        // The tracker's answer, with the landing of the visitor's current visit as its last touch.
        const earlier = `${url(before)} https://www.google.com/`;
        const trackerFresh = nextTouches(earlier, earlier, `${landing} `, HOST)[2];
        const tracker = campaign(landing);
        const row = toRow(wireHit({ v: 'AB23CD', g: '', y: '' }, landing), Date.now(), { userAgent: '', ipHash: 'ab' });
        // The collector's: the campaign it asks the visit window about (limits/visit-limits.ts compares it there).
        const server = limitQuery({ row, ipHash: 'ab' } as HitContext).campaign;
        expect(server).toBe(tracker);
        expect(tracker !== '').toBe(now.some((n) => CAMPAIGN.includes(n)));
        expect(trackerFresh).toBe(freshLanding(server, campaign(url(before))));
        expect(trackerFresh).toBe(tracker !== '' && tracker !== campaign(url(before)));
      }),
    );
  });
});
