// The hit row's TabSeparated line, read back by a real ClickHouse: every value
// the pipeline may let through (separators, backslashes, quotes, non-ASCII text,
// lone surrogates) must arrive as it left, column by column. JSON rows of earlier
// versions, still found in old journals and spills, go in beside them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HIT_COLUMNS, hitTsv, toRow, type HitRow } from '../../collector/src/hits/row.js';
import { isWireError, parseHit } from '../../collector/src/hits/wire.js';
import { bodyOf, insertTables, journalLine, parseJournal, tsvStream } from '../../collector/src/spill/tables.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';

const AWKWARD = ['tab\there', 'new\nline', 'carriage\rreturn', 'back\\slash', "quo'te", 'dou"ble', 'кириллица 🙂', 'end\\', '\\t literally', 'lone \ud800 surrogate'];

function row(eventId: string, i: number): HitRow {
  const text = AWKWARD[i % AWKWARD.length]!;
  const hit = parseHit(
    JSON.stringify({
      s: 'demo',
      k: 'lead',
      e: eventId,
      t: Date.UTC(2026, 10, 30, 12, 0, 0, 250 + i),
      u: `https://shop.example/p?utm_source=${encodeURIComponent(text.toWellFormed())}&utm_campaign=c${i}#${text}`,
      r: `https://ref.example/${text}`,
      g: `GA1.${text}`,
      y: `ym ${text}`,
      v: `v${i}\t\\`,
      p: { [text]: text, plain: 'value', [`k'${i}`]: `[${text}]` },
    }),
  );
  if (isWireError(hit)) throw new Error(hit.reason);
  return toRow(hit, Date.UTC(2026, 10, 30, 12, 0, 1), { userAgent: `Agent/${text}`, ipHash: 'abc123' });
}

describe('hit rows as TabSeparated text', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('has one field per column and no raw separator inside a field', () => {
    for (let i = 0; i < AWKWARD.length; i++) {
      const line = hitTsv(row(`tsvfields${i}`, i));
      expect(line).not.toMatch(/[\n\r]/);
      expect(line.split('\t')).toHaveLength(HIT_COLUMNS.length);
    }
  });

  it('arrives in ClickHouse exactly as the row held it, beside JSON rows of earlier versions', async () => {
    const rows = AWKWARD.map((_, i) => row(`tsvround${String(i).padStart(2, '0')}`, i));
    const legacy = row('jsonround99', 3);
    const journal = rows.map((r) => journalLine(tsvStream('hits'), hitTsv(r))).join('') + journalLine('hits', JSON.stringify(legacy));
    const { tables, rows: count } = parseJournal(journal);
    expect(count).toBe(rows.length + 1);
    await insertTables(db.client, tables, 10_000);
    const stored = await db.rows<HitRow>(`SELECT ${HIT_COLUMNS.join(', ')} FROM hits ORDER BY event_id`);
    const expected = [...rows, legacy].sort((a, b) => a.event_id.localeCompare(b.event_id));
    expect(stored).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i++) {
      // ClickHouse hands UInt16 back as a number and strings as written; a lone
      // surrogate was made well-formed (U+FFFD) by the row already.
      expect(stored[i]).toEqual({ ...expected[i], ts_ms: expected[i]!.ts_ms });
    }
    expect(stored.find((r) => r.event_id === 'tsvround09')!.user_agent).toBe('Agent/lone \ufffd surrogate');
  });

  it('refuses a TabSeparated line with a field too few when read back', () => {
    const line = hitTsv(row('tsvshort01', 0));
    const short = line.slice(0, line.lastIndexOf('\t'));
    const { rows } = parseJournal(journalLine(tsvStream('hits'), short) + journalLine(tsvStream('hits'), line));
    expect(rows).toBe(1);
  });

  it('inserts JSON rows given as a body', async () => {
    await insertTables(db.client, { hits: bodyOf([JSON.stringify(row('jsonbody01', 1))]) }, 10_000);
    const [r] = await db.rows<{ url: string }>(`SELECT url FROM hits WHERE event_id = 'jsonbody01'`);
    expect(r!.url).toBe(row('jsonbody01', 1).url);
  });
});
