// Where a batch goes when ClickHouse cannot take it: a Redis list (which every
// collector sharing the Redis replays), or the local spool directory. The batch
// was acknowledged, so it goes to Redis only when Redis keeps it across a
// restart, by its own account (SPILL_REDIS=auto: an append-only file), and to
// the spool directory when Redis does not, is down, or refuses the push. A replay loop puts spilled
// batches into ClickHouse with exponential back-off, removing each only after
// its insert succeeded. The insert sets aside rows ClickHouse refuses for their
// data (buffer/inserter.ts); when an outage cuts a replay short, the batch is
// replaced by the rows not stored yet, so no row is inserted twice by the
// replay. Should a row still arrive twice (an insert whose answer was lost),
// every row carries its client event id: the tables fold repeats
// (ReplacingMergeTree) and reports count by event id.
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SpillRedis } from '../config.js';
import type { Metrics } from '../metrics/registry.js';
import { fileName, replayable } from './files.js';
import { InsertInterrupted } from '../buffer/inserter.js';
import { bodyOf, journalText, parseJournal, type Tables } from './tables.js';

const REDIS_KEY = 'spill:batches';
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** Even with nothing known to be spilled, look again now and then (another instance may have spilled). */
const IDLE_CHECK_MS = 30_000;

export type SpillOptions = {
  dir: string;
  pid: number;
  start: number;
  redis: Redis;
  /** Whether batches may go to Redis: `auto` when it keeps an append-only file. */
  redisMode: SpillRedis;
  /** Inserts a batch, setting refused rows aside; throws InsertInterrupted with the rows not stored on an outage. */
  insert: (tables: Tables) => Promise<unknown>;
  log: Logger;
  metrics: Metrics;
};

/**
 * A batch from the Redis list: journal text, or (written by versions before the
 * journal format was used there) a JSON object of row arrays per table.
 */
export function spilledTables(item: Buffer): Tables {
  if (item[0] !== 0x7b /* { */) return parseJournal(item).tables;
  const old = JSON.parse(item.toString('utf8')) as Record<string, string[]>;
  return Object.fromEntries(Object.entries(old).map(([table, rows]) => [table, bodyOf(rows)]));
}

/**
 * What waits for a replay: the spool files this collector replays (its own
 * spooled batches, and every file of an instance that died on its directory)
 * with their bytes, and the batches in the Redis list, which every collector
 * sharing the Redis sees alike (null: Redis did not answer).
 */
export type SpillBacklog = { diskBatches: number; diskBytes: number; redisBatches: number | null };

export class Spill {
  /** ClickHouse refused the last insert: new batches go straight to the spill until a replay succeeds. */
  clickhouseDown = false;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private running: Promise<void> | null = null;
  private backoff = BACKOFF_MIN_MS;
  private stopped = false;
  /** The last verdict on Redis's persistence that was logged (logged again only when it changes). */
  private toldPersistent: boolean | null = null;

  constructor(private readonly o: SpillOptions) {}

  /**
   * Moves a sealed journal segment's batch (its kept journal lines) to the spill:
   * into Redis when it may hold it, else into a spool file; then the segment file
   * is removed. Should both fail, the segment file stays and the next start replays it.
   */
  async put(journal: Buffer, segmentPath: string, rows: number): Promise<void> {
    let why: string | null = 'redis keeps nothing across a restart';
    if (await this.redisMayHold()) {
      try {
        await this.o.redis.rpush(REDIS_KEY, journal);
        why = null;
      } catch (err) {
        why = `redis unavailable: ${(err as Error).message}`;
      }
    }
    if (why === null) {
      this.o.metrics.spilled.inc({ to: 'redis' });
      this.o.log.warn({ rows }, 'batch spilled to redis');
    } else {
      const spooled = join(this.o.dir, fileName('s', this.o.pid, this.o.start, ++this.seq));
      writeAtomically(spooled, journal);
      this.o.metrics.spilled.inc({ to: 'disk' });
      this.o.log.warn({ rows, why }, 'batch spooled to disk');
    }
    unlinkSync(segmentPath);
    this.schedule(this.backoff);
  }

  /**
   * Whether a spilled batch may go to Redis. Asked at each spill (they are rare,
   * and Redis's configuration can change while the collector runs); in `auto`
   * mode a Redis that does not answer CONFIG GET counts as not persistent.
   */
  private async redisMayHold(): Promise<boolean> {
    if (this.o.redisMode !== 'auto') return this.o.redisMode === 'always';
    let persistent = false;
    try {
      const [, appendonly] = (await this.o.redis.config('GET', 'appendonly')) as string[];
      persistent = appendonly === 'yes';
    } catch {
      return false; // down or CONFIG refused: the push would fail too, or the answer is unknown
    }
    if (persistent !== this.toldPersistent) {
      this.toldPersistent = persistent;
      if (persistent) this.o.log.info('redis keeps an append-only file: spilled batches go to redis');
      else this.o.log.warn('redis has no append-only file (appendonly no): spilled batches go to the spool directory; SPILL_REDIS=always overrides');
    }
    return persistent;
  }

  /** Starts the replay loop (call once at start: replays what an earlier run left). */
  start(): void {
    this.schedule(0);
  }

  /** Plans the next pass in `ms`, unless one is planned sooner already. */
  private schedule(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.replay();
    }, ms);
    this.timer.unref();
  }

  /** One replay pass: the disk spool, then the Redis list. Resolves when the pass ends. */
  replay(): Promise<void> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async pass(): Promise<void> {
    let redisOk = true;
    try {
      for (const f of replayable(this.o.dir, this.o.pid, this.o.start)) {
        if (this.stopped) return;
        const path = join(this.o.dir, f.name);
        const { tables, rows } = parseJournal(readFileSync(path));
        if (rows > 0) await this.insertKeepingRest(tables, (rest) => writeAtomically(path, rest));
        unlinkSync(path);
        this.o.metrics.replayed.inc({ from: 'disk' });
        this.o.log.info({ file: f.name, rows }, 'spooled batch replayed');
      }
      for (;;) {
        if (this.stopped) return;
        let item: Buffer | null;
        try {
          item = await this.o.redis.lindexBuffer(REDIS_KEY, 0);
        } catch {
          redisOk = false;
          break;
        }
        if (item === null) break;
        await this.insertKeepingRest(spilledTables(item), async (rest) => {
          // In one transaction: the batch is never both gone and not replaced.
          await this.o.redis.multi().lrem(REDIS_KEY, 1, item).lpush(REDIS_KEY, rest).exec();
        });
        // LREM by value: removes exactly the batch replayed, even if another
        // collector popped the list meanwhile.
        await this.o.redis.lrem(REDIS_KEY, 1, item).catch(() => {
          redisOk = false;
        });
        this.o.metrics.replayed.inc({ from: 'redis' });
        this.o.log.info('spilled batch replayed from redis');
      }
      this.clickhouseDown = false;
      this.backoff = BACKOFF_MIN_MS;
      this.schedule(redisOk ? IDLE_CHECK_MS : BACKOFF_MAX_MS);
    } catch (err) {
      this.clickhouseDown = true;
      this.o.metrics.insertFailures.inc();
      this.o.log.warn({ err: (err as Error).message, retryInMs: this.backoff }, 'replay failed; backing off');
      this.schedule(this.backoff);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /**
   * Inserts a spilled batch (refused rows are set aside by the insert). When an
   * outage cuts it short, `keep` replaces the batch by the rows not stored yet
   * before the error goes on to the back-off.
   */
  private async insertKeepingRest(tables: Tables, keep: (rest: Buffer) => Promise<void> | void): Promise<void> {
    try {
      await this.o.insert(tables);
    } catch (err) {
      if (err instanceof InsertInterrupted) {
        await Promise.resolve(journalText(err.rest))
          .then(keep)
          .catch((e: unknown) => this.o.log.warn({ err: String(e) }, 'could not narrow a spilled batch to its rows not stored; it is replayed whole'));
      }
      throw err;
    }
  }

  /** The backlog as the next replay pass would find it (one directory listing and one LLEN). */
  async backlog(): Promise<SpillBacklog> {
    let diskBatches = 0;
    let diskBytes = 0;
    for (const f of replayable(this.o.dir, this.o.pid, this.o.start)) {
      try {
        diskBytes += statSync(join(this.o.dir, f.name)).size;
        diskBatches++;
      } catch {
        // replayed and removed between the listing and the stat: not waiting any more
      }
    }
    const redisBatches = await this.o.redis.llen(REDIS_KEY).catch(() => null);
    return { diskBatches, diskBytes, redisBatches };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Writes a spool file whole or not at all (a replay never reads half a batch). */
function writeAtomically(path: string, journal: Buffer): void {
  writeFileSync(`${path}.tmp`, journal);
  renameSync(`${path}.tmp`, path);
}
