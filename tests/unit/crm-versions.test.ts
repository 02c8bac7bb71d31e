// The order of a deal's versions (collector/src/crm/deals/version.ts) against a
// small model of the CRM. fast-check makes a CRM history (an add, then edits,
// status changes, deletes and restores at rising CRM times), delivers every
// event one to three times in a shuffled order, applies each delivery as the
// ingest does, and checks that the newest version is the CRM's latest state:
// deleted or not, with the fields of the newest event that carried them.
//
// What amoCRM sends: every change but a delete carries its CRM time; a delete
// carries only the id, so a copy of it cannot be told from a new delete once
// the restore that undid it has arrived. The one order kept in the shuffle is
// therefore that of deletes and restores: each delete's deliveries come before
// those of the restore that undoes it, which come before the next delete's.
// Everything else (edits before or after them, repeats) arrives in any order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyDeal, type DealAction } from '../../collector/src/crm/change.js';
import { dealVersion, place, type Placed } from '../../collector/src/crm/deals/version.js';

type Event = { n: number; action: DealAction; t: number };
type Row = Placed & { fields: number };

/** The CRM's history: op codes 0–2 edit (update / status / update), 3 deletes or restores, whichever the deal allows. */
function history(ops: number[], gaps: number[]): Event[] {
  const events: Event[] = [{ n: 0, action: 'add', t: 1_700_000_000 }];
  let deleted = false;
  ops.forEach((op, i) => {
    const t = events[events.length - 1]!.t + 1 + (gaps[i] ?? 0);
    const action: DealAction = op === 3 ? (deleted ? 'restore' : 'delete') : deleted ? 'restore' : op === 1 ? 'status' : 'update';
    if (action === 'delete') deleted = true;
    if (action === 'restore') deleted = false;
    events.push({ n: events.length, action, t });
  });
  return events;
}

/** The deliveries: every event `copies` times at a random place, deletes and restores kept in their alternation. */
function deliveries(events: Event[], copies: number[], places: number[]): Event[] {
  let k = 0;
  const out: { e: Event; at: number; chain: number }[] = [];
  let chain = 0;
  for (const e of events) {
    const copiesOf = 1 + (copies[e.n] ?? 0);
    const link = e.action === 'delete' || e.action === 'restore' ? ++chain : 0;
    for (let c = 0; c < copiesOf; c++) out.push({ e, at: places[k++ % places.length]! + k * 1e-9, chain: link });
  }
  // The places drawn for the chain go to its members in chain order.
  const chained = out.filter((d) => d.chain > 0);
  const spots = chained.map((d) => d.at).sort((a, b) => a - b);
  chained.sort((a, b) => a.chain - b.chain).forEach((d, i) => (d.at = spots[i]!));
  return out.sort((a, b) => a.at - b.at).map((d) => d.e);
}

/** Applies one delivery as DealIngest does: the rows place() says, with their fields. */
function apply(rows: Row[], e: Event): void {
  const change = { ...emptyDeal('5001', e.action), amountMinor: e.n };
  const dated = e.action === 'delete' ? null : dealVersion(change, e.t);
  const p = place(rows, change, dated);
  if (p.kind !== 'write') return;
  const fieldsOf = (v: number) => rows.find((r) => r.version === v)!.fields;
  const written: Row[] = [{ version: p.version, deleted: p.deleted, fields: p.fields === 'own' ? e.n : p.fields === null ? -1 : fieldsOf(p.fields) }];
  if (p.then) written.push({ version: p.then.version, deleted: p.then.deleted, fields: fieldsOf(p.then.fields) });
  for (const r of written) {
    expect(rows.some((x) => x.version === r.version)).toBe(false);
    rows.push(r);
    rows.sort((a, b) => a.version - b.version);
  }
}

/** The CRM's latest state: deleted when the last event deletes; the fields of the newest event that is not a delete. */
function latest(events: Event[]): { deleted: number; fields: number } {
  const last = events[events.length - 1]!;
  const fielded = events.filter((e) => e.action !== 'delete');
  return { deleted: last.action === 'delete' ? 1 : 0, fields: fielded[fielded.length - 1]!.n };
}

const op = fc.integer({ min: 0, max: 3 });

describe('deal versions in the CRM’s order', () => {
  it('the newest version is the CRM’s latest state, for any order of delivery, repeats included', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 12 }),
        fc.array(fc.nat(5000), { maxLength: 12 }),
        fc.array(fc.nat(2), { maxLength: 13 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (ops, gaps, copies, places) => {
          const events = history(ops, gaps);
          const rows: Row[] = [];
          for (const e of deliveries(events, copies, places)) apply(rows, e);
          const top = rows[rows.length - 1]!;
          expect({ deleted: top.deleted, fields: top.fields }).toEqual(latest(events));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a delete delivered late, after the edits that follow its restore, is undone by that restore', () => {
    const events = history([3, 3, 0], [0, 0, 0]); // add, delete, restore, update
    const rows: Row[] = [];
    for (const n of [0, 3, 1, 2]) apply(rows, events[n]!);
    expect(rows[rows.length - 1]).toMatchObject({ deleted: 0, fields: 3 });
  });

  it('a restore delivered before its delete is that delete’s, and the deal stays live', () => {
    const events = history([3, 3], [0, 0]); // add, delete, restore
    const rows: Row[] = [];
    for (const n of [0, 2, 1]) apply(rows, events[n]!);
    expect(rows[rows.length - 1]).toMatchObject({ deleted: 0, fields: 2 });
  });

  it('a repeated delivery is a repeat: the same version, nothing written', () => {
    const rows: Row[] = [];
    const [add] = history([], []);
    apply(rows, add!);
    const change = { ...emptyDeal('5001', 'add'), amountMinor: 0 };
    expect(place(rows, change, dealVersion(change, add!.t))).toEqual({ kind: 'repeated' });
    apply(rows, { n: 1, action: 'delete', t: 0 });
    expect(place(rows, emptyDeal('5001', 'delete'), null)).toEqual({ kind: 'repeated' });
  });
});
