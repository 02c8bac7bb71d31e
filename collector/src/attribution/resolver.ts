// Which identity resolution a report uses, and when a new one is made
// (stale-while-revalidate). Resolving takes seconds on millions of visits, so it
// stays out of the report's way:
//   - a report uses the newest finished resolution, at once;
//   - if the inputs changed since (their fingerprint differs), it also starts a
//     refresh in the background, unless the newest resolution is younger than
//     maxAgeSeconds (ATTRIBUTION_MAX_AGE_SECONDS: on a busy site every visit
//     changes the inputs);
//   - only without any resolution, or when asked for fresh figures, does a
//     report wait for one that has read the current inputs;
//   - CRM deliveries ask for a refresh too (`request`), so the next report is current.
// One refresh runs at a time per database; requests arriving meanwhile fold into
// one more refresh after it, which does nothing if the inputs did not change.
// ClickHouse query priorities (a query pauses while one of a higher priority
// runs): a resolution a report waits for goes first, then reports' own reads,
// then a background refresh. So a report that starts a refresh is not slowed
// down by it, and a report that waits fills the resolution's pauses (union-find
// in Node) with its other reads instead of slowing the resolution down.
import { knownSettings, type ClickHouseClient, type ClickHouseSettings } from '../clickhouse/client.js';
import { resolveIncrementally, type FullReason } from './incremental.js';
import { resolveNow, type Steps } from './resolve.js';
import { newestRun, readFingerprint, type Run } from './runs.js';

/** ClickHouse `priority`: 1 is the highest. */
const PRIORITIES = {
  awaited: { priority: '1' },
  report: { priority: '2' },
  background: { priority: '3' },
} satisfies Record<string, ClickHouseSettings>;

type Priorities = Record<keyof typeof PRIORITIES, ClickHouseSettings>;

/** What a report says about the resolution behind it. */
export type ResolutionStatus = {
  /** The snapshot read (snapshot.ts): the full resolution that started its generation, and its newest run. */
  generation: number;
  run: number;
  /** When it finished, ISO 8601 UTC. */
  finishedAt: string;
  ageSeconds: number;
  /** No hit, deal or link arrived since it was made. */
  current: boolean;
  /** A newer resolution is being made; a later report will use it. */
  refreshing: boolean;
  /** How long this report waited for a resolution (0: it used a finished one at once). */
  waitedMs: number;
};

export type ResolverOptions = {
  maxAgeSeconds?: number;
  /** Where a background refresh reports its failure (the report still answers from the previous run). */
  onError?: (err: unknown) => void;
  /** CLICKHOUSE_CLUSTER: the resolution's SQL in its cluster form (resolve.ts). */
  cluster?: string;
  /**
   * ATTRIBUTION_FULL_HOURS: a generation older than this is replaced by a full
   * resolution (its superseded rows go, and anything a run could not see by
   * arrival time is read again). 0: every run is full.
   */
  fullEveryHours?: number;
  /** How long a hit may wait before it is stored, and still be read by the next incremental run (resolve.ts, LATE_SECONDS). */
  lateSeconds?: number;
  /** Told of every run made: full or incremental, and why full when an incremental one was possible. */
  onRun?: (run: Run & { steps?: Steps }, fullBecause?: FullWhy) => void;
};

/** Why a resolution was full: no generation yet, an old one (fullEveryHours), or what the incremental run could not follow. */
export type FullWhy = FullReason | 'no_generation' | 'generation_age';

/** ATTRIBUTION_FULL_HOURS by default. */
export const DEFAULT_FULL_EVERY_HOURS = 24;

type Job = { startedAt: number; done: Promise<Run & { steps?: Steps }> };

export class Resolver {
  private job: Job | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lastFinished = 0;
  private priorities: Promise<Priorities> | null = null;

  constructor(
    readonly client: ClickHouseClient,
    readonly db: string,
    private readonly options: ResolverOptions = {},
  ) {}

  private get maxAgeMs(): number {
    return (this.options.maxAgeSeconds ?? 0) * 1000;
  }

  /**
   * The resolution a report uses: the newest one, refreshed in the background when
   * stale; with `fresh`, one that has read the inputs as they are now (waits if needed).
   */
  async forReport(fresh = false): Promise<ResolutionStatus> {
    const asked = performance.now();
    const [fingerprint, last] = await Promise.all([readFingerprint(this.client, this.db), newestRun(this.client, this.db)]);
    if (last && (last.fingerprint === fingerprint || !fresh)) {
      const current = last.fingerprint === fingerprint;
      if (!current && last.ageSeconds * 1000 >= this.maxAgeMs) this.request(fingerprint);
      return this.status(last, current, 0);
    }
    // Without any run, a refresh already in progress will do, even one that started before the newest data.
    const run = await this.finishedSince(fresh ? asked : -Infinity, fingerprint);
    return this.status(run, fresh || run.fingerprint === fingerprint, performance.now() - asked);
  }

  /** Asks for a refresh in the background (after a CRM delivery, or for a stale report). */
  request(fingerprint?: string): void {
    if (this.job) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const wait = this.lastFinished + this.maxAgeMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.request();
      }, wait);
      this.timer.unref();
      return;
    }
    this.start(fingerprint, 'background').done.catch((err: unknown) => this.options.onError?.(err));
  }

  /** Settings of a report's own queries: the priority between a resolution it waits for and a background one. */
  async reportSettings(): Promise<ClickHouseSettings> {
    return (await this.knownPriorities()).report;
  }

  /** The refresh in progress, if any. */
  get running(): Promise<Run> | null {
    return this.job?.done ?? null;
  }

  /** Resolves now (waiting for a refresh in progress first) and gives the run with its step timings. */
  async refresh(): Promise<Run & { steps?: Steps }> {
    return this.finishedSince(performance.now());
  }

  /** Stops the timer and lets a refresh in progress finish. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    await this.job?.done.catch(() => undefined);
  }

  /** Waits for a run that started at `since` or later, starting one if needed (one at a time). */
  private async finishedSince(since: number, fingerprint?: string): Promise<Run & { steps?: Steps }> {
    for (;;) {
      const job = this.job ?? this.start(fingerprint, 'awaited');
      const run = await job.done;
      if (job.startedAt >= since) return run;
      fingerprint = undefined; // read again: the one given may be older than the job just finished
    }
  }

  private start(fingerprint: string | undefined, priority: keyof Priorities): Job {
    const job: Job = { startedAt: performance.now(), done: this.resolve(fingerprint, priority) };
    this.job = job;
    const settle = () => {
      this.job = null;
      this.lastFinished = Date.now();
      if (this.again) {
        this.again = false;
        this.request();
      }
    };
    job.done.then(settle, settle);
    return job;
  }

  /**
   * A refresh: nothing to do when the newest run already read these inputs;
   * else an incremental run on top of it, or a full one when there is no
   * generation yet, it is older than fullEveryHours, or the incremental run
   * cannot follow what changed.
   */
  private async resolve(known: string | undefined, priority: keyof Priorities): Promise<Run & { steps?: Steps }> {
    const [fingerprint, last] = await Promise.all([known ?? readFingerprint(this.client, this.db), newestRun(this.client, this.db)]);
    if (last && last.fingerprint === fingerprint) return last;
    const settings = (await this.knownPriorities())[priority];
    const cluster = this.options.cluster ?? '';
    const full = async (why: FullWhy) => {
      const run = await resolveNow(this.client, this.db, fingerprint, settings, cluster, this.options.lateSeconds);
      this.options.onRun?.(run, why);
      return run;
    };
    if (!last) return full('no_generation');
    const maxAge = (this.options.fullEveryHours ?? DEFAULT_FULL_EVERY_HOURS) * 3600;
    if (maxAge <= 0 || last.startedAt - last.generationStartedAt + last.ageSeconds >= maxAge) return full('generation_age');
    const run = await resolveIncrementally(this.client, this.db, last, fingerprint, settings, cluster, this.options.lateSeconds);
    if ('full' in run) return full(run.full);
    this.options.onRun?.(run);
    return run;
  }

  /** Priorities only if the server knows the setting (an unknown setting fails the query); asked once. */
  private knownPriorities(): Promise<Priorities> {
    this.priorities ??= knownSettings(this.client, PRIORITIES.awaited).then(
      (known) => ('priority' in known ? PRIORITIES : { awaited: {}, report: {}, background: {} }),
      (err: unknown) => {
        this.priorities = null;
        throw err;
      },
    );
    return this.priorities;
  }

  private status(run: Run, current: boolean, waitedMs: number): ResolutionStatus {
    return {
      generation: run.generation,
      run: run.run,
      finishedAt: `${run.finishedAt.replace(' ', 'T')}Z`,
      ageSeconds: run.ageSeconds,
      current,
      refreshing: this.job !== null,
      waitedMs: Math.round(waitedMs),
    };
  }
}
