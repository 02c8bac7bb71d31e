// Rows as the journal holds them, good and poisoned, for the tests of
// "a bad row is a row, not a batch": TabSeparated hit lines and JSONEachRow
// identity links that ClickHouse takes, and rows it refuses (a bad DateTime, a
// field too many, a lone surrogate escape, an unknown field).
import { toRow, hitTsv, HIT_COLUMNS } from '../../collector/src/hits/row.js';
import { isWireError, parseHit } from '../../collector/src/hits/wire.js';

/** A hit line (no newline) of a visit `id` by visitor `v`. */
export function hitLine(id: string, v = 'VISITOR1', at = Date.now()): string {
  const hit = parseHit(JSON.stringify({ s: 'demo', k: 'visit', e: id, t: at, u: `https://shop.example/p/${id}`, v }));
  if (isWireError(hit)) throw new Error(hit.reason);
  return hitTsv(toRow(hit, at, { userAgent: 'UA', ipHash: '' }));
}

const TS = HIT_COLUMNS.indexOf('ts');

/** A hit line whose DateTime ClickHouse cannot parse. */
export function badDateHitLine(id: string): string {
  const fields = hitLine(id).split('\t');
  fields[TS] = 'not-a-date';
  return fields.join('\t');
}

/** A hit line with one field too many. */
export function extraFieldHitLine(id: string): string {
  return `${hitLine(id)}\textra`;
}

/** An identity link (JSONEachRow) from visitor `v` to e-mail hash `h`. */
export function linkLine(v: string, h: string): string {
  return JSON.stringify({ kind_a: 'visitor', id_a: v, kind_b: 'email', id_b: h, evidence: 'form', linked_at: '2026-11-30 12:00:00' });
}

/** A link whose visitor id is a lone UTF-16 surrogate: JSON.stringify writes it as the escape `\ud800`. */
export function surrogateLinkLine(h: string): string {
  return linkLine('\ud800', h);
}

/** A link with a field the table does not have. */
export function unknownFieldLinkLine(h: string): string {
  return JSON.stringify({ ...JSON.parse(linkLine('VISITORX', h)), extra: 1 });
}

/** The ids 0…n-1 with a prefix, padded so they sort as numbers. */
export const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);

/** One line of the bad-rows file (spill/bad-rows.ts). */
export type BadRowLine = { stream: string; table: string; row: string; code: number | null; error: string; at: string };

/** Rows as a stream's body: each ends in a newline. */
export const rowsBody = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

/** `good` rows with `bad[k]` put at position `at[k]` of the result. */
export function among(good: string[], bad: string[], at: number[]): string[] {
  const out = [...good];
  at.map((pos, k) => [pos, k] as const)
    .sort((a, b) => a[0] - b[0])
    .forEach(([pos, k]) => out.splice(pos, 0, bad[k]!));
  return out;
}
