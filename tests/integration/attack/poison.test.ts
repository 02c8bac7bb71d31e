// Point 1b: a bad row is a row, not a batch. Rows ClickHouse refuses (a lone
// surrogate escape, a bad DateTime, a field too many, an unknown field) reach the
// buffer by the roads still open to them: journal segments and spool files left
// by an earlier run (the replay), and the live insert path of the journal buffer,
// driven here directly against the real ClickHouse. Only the refused rows are set
// aside, each with ClickHouse's reason; every other row is stored exactly once.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalEntry, type MoreRows } from '../../../collector/src/buffer/journal-buffer.js';
import { connect, portableSettings } from '../../../collector/src/clickhouse/client.js';
import { createMetrics } from '../../../collector/src/metrics/registry.js';
import { durableBuffer } from '../../../collector/src/pipeline/ingest.js';
import { fileName } from '../../../collector/src/spill/files.js';
import { journalOf, tsvStream } from '../../../collector/src/spill/tables.js';
import { eventually, freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../../helpers/collector.js';
import { REDIS_URL } from '../../helpers/env.js';
import {
  among,
  badDateHitLine,
  extraFieldHitLine,
  hitLine,
  ids,
  linkLine,
  rowsBody,
  surrogateLinkLine,
  unknownFieldLinkLine,
  type BadRowLine,
} from '../../helpers/poison-rows.js';

const DEAD_PID = 2 ** 22 + 4322; // above the default pid_max: no such process
const HITS = tsvStream('hits');

/** Every line of the bad-rows files in `dir`. */
function badRows(dir: string): BadRowLine[] {
  return readdirSync(dir)
    .filter((f) => /^bad-rows-.*\.jsonl$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as BadRowLine);
}

/** Each stored hit's event id and how often it is stored (no merge has folded repeats: OPTIMIZE never runs here). */
async function hitCopies(db: TestDatabase): Promise<Map<string, number>> {
  const rows = await db.rows<{ event_id: string; n: string }>('SELECT event_id, count() AS n FROM hits GROUP BY event_id');
  return new Map(rows.map((r) => [r.event_id, Number(r.n)]));
}

async function linkIds(db: TestDatabase): Promise<string[]> {
  return (await db.rows<{ id_b: string }>('SELECT id_b FROM identity_links ORDER BY id_b')).map((r) => r.id_b);
}

describe('1b. poison rows', () => {
  let db: TestDatabase;
  let spool: string;
  let c: RunningCollector | undefined;

  beforeEach(async () => {
    db = await freshDatabase('tl_poison');
    spool = mkdtempSync(join(tmpdir(), 'tl-poison-'));
  });
  afterEach(async () => {
    await c?.stop('SIGKILL');
    c = undefined;
    await db?.drop();
    rmSync(spool, { recursive: true, force: true });
  });

  it('1b. poison rows in a journal segment and a spool file left by an earlier run are set aside alone; every other row is stored once', async () => {
    // A segment: 3,000 hits, then 600 links of which one carries a lone surrogate (the case).
    const segHits = ids('seghit', 3000);
    const segLinks = ids('seglink', 600);
    const surrogate = surrogateLinkLine('poisonlink1');
    const segLinkLines = among(segLinks.map((h, i) => linkLine(`V${i}`, h)), [surrogate], [317]);
    writeFileSync(
      join(spool, fileName('j', DEAD_PID, 1, 1)),
      journalOf([
        { stream: HITS, buf: rowsBody(segHits.map((id) => hitLine(id))) },
        { stream: 'identity_links', buf: rowsBody(segLinkLines) },
      ]),
    );
    // A spooled batch: poison hits first, in the middle and last; a link with an unknown field.
    const spHits = ids('sphit', 2000);
    const poisonHits = [badDateHitLine('poisonhit0'), badDateHitLine('poisonhit1'), badDateHitLine('poisonhit2')];
    const spHitLines = among(spHits.map((id) => hitLine(id)), poisonHits, [0, 1000, 2000]);
    const spLinks = ids('splink', 200);
    const unknown = unknownFieldLinkLine('poisonlink2');
    writeFileSync(
      join(spool, fileName('s', DEAD_PID, 1, 2)),
      journalOf([
        { stream: HITS, buf: rowsBody(spHitLines) },
        { stream: 'identity_links', buf: rowsBody(among(spLinks.map((h) => linkLine('VV', h)), [unknown], [123])) },
      ]),
    );
    c = await startCollector({ CLICKHOUSE_DATABASE: db.name, SPOOL_DIR: spool });
    const goodHits = [...segHits, ...spHits];
    const goodLinks = [...segLinks, ...spLinks].sort();
    await eventually(() => linkIds(db), 20_000, (l) => l.length >= goodLinks.length);
    const copies = await eventually(() => hitCopies(db), 10_000, (m) => m.size >= goodHits.length);
    expect([...copies.keys()].sort()).toEqual([...goodHits].sort());
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(await linkIds(db)).toEqual(goodLinks);
    const bad = badRows(spool);
    expect(bad.map((b) => b.row).sort()).toEqual([...poisonHits, surrogate, unknown].sort());
    for (const b of bad) {
      expect(b.table).toBe(b.stream === HITS ? 'hits' : 'identity_links');
      // The engine's code, and its message (18.16 writes "Code: N, …" into it; current ClickHouse gives the code apart).
      expect(typeof b.code).toBe('number');
      expect(b.error).toMatch(/\w{3}/);
    }
    expect(bad.find((b) => b.row === surrogate)!.code).toBe(25);
    // Both files were consumed; nothing of the dead instance waits for another replay.
    expect(readdirSync(spool).filter((f) => f.includes(`-${DEAD_PID}-`))).toEqual([]);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(metrics).toMatch(/throughline_rows_rejected_total\{table="hits"\} 3\n/);
    expect(metrics).toMatch(/throughline_rows_rejected_total\{table="identity_links"\} 2\n/);
    expect(c.output()).toMatch(/ClickHouse refused/);
  });

  describe('the live insert path', () => {
    const redis = new Redis(REDIS_URL, { keyPrefix: `tl-poison-${process.pid}:`, lazyConnect: true });
    afterAll(() => redis.disconnect());

    class Entry extends JournalEntry {
      err: Error | null | undefined;
      durable(err: Error | null): void {
        this.err = err;
      }
    }

    /** Sends hit lines (each maybe with one link) through a journal buffer wired as the collector wires it. */
    async function throughBuffer(lines: { hit: string; link?: string }[]) {
      const metrics = createMetrics();
      const clickhouse = connect(db.target, db.name, await portableSettings(db.client));
      const { buffer } = durableBuffer({
        clickhouse,
        redis,
        dir: spool,
        maxRows: 100_000,
        maxBytes: 64 * 1024 * 1024,
        maxMs: 100,
        fsync: false,
        insertTimeoutMs: 10_000,
        spillRedis: 'never',
        log: pino({ level: 'silent' }),
        metrics,
      });
      const entries = lines.map(({ hit, link }) => {
        const more: MoreRows[] | null = link ? [{ stream: 'identity_links', text: `${link}\n`, rows: 1, line: 0 }] : null;
        const e = new Entry(HITS, false, more);
        buffer.accept(e, `${hit}\n`);
        return e;
      });
      return { buffer, entries, metrics, clickhouse };
    }

    it('1b. a refused link does not take its batch with it, and the batch’s hits are not inserted again', async () => {
      const hitIds = ids('livehit', 3000);
      const links = ids('livelink', 300);
      const surrogate = surrogateLinkLine('poisonlink3');
      const lines = hitIds.map((id, i) => ({ hit: hitLine(id), link: i % 10 === 0 ? linkLine(`V${i}`, links[i / 10]!) : undefined }));
      lines[1501]!.link = surrogate;
      const { buffer, entries, metrics, clickhouse } = await throughBuffer(lines);
      try {
        await eventually(() => linkIds(db), 15_000, (l) => l.length >= links.length);
        // A replay would have come by now if the batch had been spilled.
        await new Promise((r) => setTimeout(r, 1000));
        expect(entries.every((e) => e.err === null)).toBe(true);
        const copies = await hitCopies(db);
        expect(copies.size).toBe(hitIds.length);
        expect([...copies.values()].every((n) => n === 1)).toBe(true);
        expect(await linkIds(db)).toEqual(links);
        expect(badRows(spool).map((b) => [b.stream, b.row, b.code])).toEqual([['identity_links', surrogate, 25]]);
        const text = await metrics.registry.metrics();
        expect(text).toMatch(/throughline_rows_rejected_total\{table="identity_links"\} 1\n/);
        expect(text).toMatch(/throughline_rows_inserted_total\{table="hits"\} 3000\n/);
        expect(text).toMatch(/throughline_rows_inserted_total\{table="identity_links"\} 300\n/);
      } finally {
        await buffer.close();
        await clickhouse.close();
      }
    });

    it('1b. one and several refused hits anywhere in a live batch are set aside alone; every other row is stored once', async () => {
      const hitIds = ids('manyhit', 4000);
      const poison = [badDateHitLine('poisonhit3'), extraFieldHitLine('poisonhit4'), badDateHitLine('poisonhit5'), badDateHitLine('poisonhit6')];
      const hitLines = among(hitIds.map((id) => hitLine(id)), poison, [0, 777, 778, 4000]);
      const { buffer, clickhouse } = await throughBuffer(hitLines.map((hit) => ({ hit })));
      try {
        await eventually(() => hitCopies(db), 15_000, (m) => m.size >= hitIds.length);
        await new Promise((r) => setTimeout(r, 1000));
        const copies = await hitCopies(db);
        expect([...copies.keys()].sort()).toEqual(hitIds);
        expect([...copies.values()].every((n) => n === 1)).toBe(true);
        const bad = badRows(spool);
        expect(bad.map((b) => b.row).sort()).toEqual([...poison].sort());
        expect(bad.every((b) => b.stream === HITS && typeof b.code === 'number' && /\w{3}/.test(b.error))).toBe(true);
      } finally {
        await buffer.close();
        await clickhouse.close();
      }
    });
  });
});
