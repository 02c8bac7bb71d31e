// The checks behind /livez, /readyz and /healthz, and the background probe that
// keeps the gauges of /metrics current between them: throughline_clickhouse_up,
// throughline_redis_up and the spill backlog (throughline_spill_backlog_*).
// The probe's timer is unref'd (it never keeps the process alive) and stops once
// the journal buffer is closed, which is how the collector shuts down
// (services.ts: close()); stop() stops it at once.
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpillBacklog } from '../spill/spill.js';
import type { Metrics } from '../metrics/registry.js';
import type { Dependencies, Liveness, Up } from './verdict.js';

/** How long a service has to answer a check. */
export const CHECK_TIMEOUT_MS = 1500;
/** How often the probe refreshes the gauges. */
export const PROBE_EVERY_MS = 5000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Up when `fn` resolves within the timeout. */
export async function check(fn: () => Promise<unknown>, ms = CHECK_TIMEOUT_MS): Promise<Up> {
  try {
    await within(fn(), ms);
    return 'up';
  } catch {
    return 'down';
  }
}

export type ProbeDeps = {
  /** Resolves when ClickHouse answers, throws when it does not. */
  pingClickHouse: () => Promise<unknown>;
  pingRedis: () => Promise<unknown>;
  /** The journal buffer's side: its directory, whether it is closed, the spill's backlog. */
  buffer: { readonly dir: string; readonly isClosed: boolean; spillBacklog(): Promise<SpillBacklog> };
  metrics: Metrics;
  everyMs?: number;
  timeoutMs?: number;
};

let probeFiles = 0;

export class HealthProbe {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(private readonly o: ProbeDeps) {}

  /** Checks now, then every `everyMs`. */
  start(): this {
    if (this.timer || this.o.buffer.isClosed) return this;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.everyMs ?? PROBE_EVERY_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /**
   * Liveness: the journal is open and its directory takes a write (a small file
   * written and removed: a directory gone, read-only, or on a full disk fails it).
   */
  async liveness(): Promise<Liveness> {
    if (this.o.buffer.isClosed) return { journal: 'closed' };
    const path = join(this.o.buffer.dir, `.livez-${process.pid}-${++probeFiles}`);
    try {
      await writeFile(path, 'live\n');
      await unlink(path);
      return { journal: 'writable' };
    } catch (err) {
      await unlink(path).catch(() => undefined);
      return { journal: 'not_writable', error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }

  /** Asks ClickHouse and Redis (at once, each within the timeout) and sets their gauges. */
  async dependencies(): Promise<Dependencies> {
    const ms = this.o.timeoutMs ?? CHECK_TIMEOUT_MS;
    const [clickhouse, redis] = await Promise.all([check(this.o.pingClickHouse, ms), check(this.o.pingRedis, ms)]);
    this.o.metrics.clickhouseUp.set(clickhouse === 'up' ? 1 : 0);
    this.o.metrics.redisUp.set(redis === 'up' ? 1 : 0);
    return { clickhouse, redis };
  }

  /** Sets the backlog gauges; Redis's stays at its last known length while Redis does not answer. */
  async backlog(): Promise<SpillBacklog> {
    const b = await this.o.buffer.spillBacklog();
    const m = this.o.metrics;
    m.spillBacklogBatches.set({ where: 'disk' }, b.diskBatches);
    m.spillBacklogBytes.set({ where: 'disk' }, b.diskBytes);
    if (b.redisBatches !== null) m.spillBacklogBatches.set({ where: 'redis' }, b.redisBatches);
    return b;
  }

  /** One round of the probe; rounds never overlap (a slow check skips the next round). */
  tick(): Promise<void> {
    if (this.o.buffer.isClosed) {
      this.stop();
      return Promise.resolve();
    }
    if (!this.ticking) {
      this.ticking = Promise.all([this.dependencies(), this.backlog()])
        .then(() => undefined)
        // The directory went away (shutting down) or could not be read: the gauges keep their values.
        .catch(() => undefined)
        .finally(() => {
          this.ticking = null;
        });
    }
    return this.ticking;
  }
}
