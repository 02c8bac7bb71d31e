// The health routes' verdicts (health/verdict.ts), the probe behind them and the
// gauges (health/probe.ts), and the spill's backlog count (spill/spill.ts), with
// stand-ins for ClickHouse, Redis and the journal buffer.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthProbe, check } from '../../collector/src/health/probe.js';
import { healthzVerdict, livezVerdict, readyzVerdict } from '../../collector/src/health/verdict.js';
import { createMetrics } from '../../collector/src/metrics/registry.js';
import { fileName } from '../../collector/src/spill/files.js';
import { Spill, type SpillBacklog } from '../../collector/src/spill/spill.js';
import { silentLog } from '../helpers/fake-clickhouse.js';
import { metricsText } from '../helpers/metrics-text.js';

const DEAD_PID = 2 ** 22 + 4321; // above the default pid_max: no such process

describe('the verdicts', () => {
  const up = { clickhouse: 'up', redis: 'up' } as const;

  it('live: the journal writable, whatever ClickHouse and Redis say', () => {
    expect(livezVerdict({ journal: 'writable' })).toEqual({ status: 200, body: { status: 'live', journal: 'writable' } });
    expect(livezVerdict({ journal: 'not_writable', error: 'ENOSPC' })).toEqual({ status: 503, body: { status: 'not_live', journal: 'not_writable', error: 'ENOSPC' } });
    expect(livezVerdict({ journal: 'closed' }).status).toBe(503);
  });

  it('ready: live and both services up; 503 names each part that is down', () => {
    expect(readyzVerdict({ journal: 'writable' }, up)).toEqual({ status: 200, body: { status: 'ready', journal: 'writable', ...up, down: [] } });
    expect(readyzVerdict({ journal: 'writable' }, { clickhouse: 'down', redis: 'up' })).toMatchObject({ status: 503, body: { status: 'not_ready', down: ['clickhouse'] } });
    expect(readyzVerdict({ journal: 'writable' }, { clickhouse: 'up', redis: 'down' }).body.down).toEqual(['redis']);
    expect(readyzVerdict({ journal: 'closed' }, { clickhouse: 'down', redis: 'down' })).toMatchObject({ status: 503, body: { down: ['journal', 'clickhouse', 'redis'] } });
    expect(readyzVerdict({ journal: 'not_writable' }, up)).toMatchObject({ status: 503, body: { down: ['journal'] } });
  });

  it('/healthz answers as before', () => {
    expect(healthzVerdict(up, 3)).toEqual({ status: 200, body: { status: 'ok', clickhouse: 'up', redis: 'up', buffered: 3 } });
    expect(healthzVerdict({ clickhouse: 'down', redis: 'up' }, 0)).toEqual({ status: 503, body: { status: 'degraded', clickhouse: 'down', redis: 'up', buffered: 0 } });
  });
});

describe('check', () => {
  it('is up when the call resolves in time, down when it throws or is late', async () => {
    expect(await check(async () => 'PONG')).toBe('up');
    expect(await check(async () => Promise.reject(new Error('ECONNREFUSED')))).toBe('down');
    expect(await check(() => new Promise(() => {}), 20)).toBe('down');
  });
});

describe('the health probe', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-health-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setUp(over: { dir?: string } = {}) {
    const state = { clickhouse: true, redis: true, closed: false, backlog: { diskBatches: 0, diskBytes: 0, redisBatches: 0 } as SpillBacklog, backlogCalls: 0 };
    const metrics = createMetrics();
    const probe = new HealthProbe({
      pingClickHouse: async () => {
        if (!state.clickhouse) throw new Error('ECONNREFUSED');
      },
      pingRedis: async () => {
        if (!state.redis) throw new Error('Connection is closed.');
        return 'PONG';
      },
      buffer: {
        dir: over.dir ?? dir,
        get isClosed() {
          return state.closed;
        },
        spillBacklog: async () => {
          state.backlogCalls++;
          return state.backlog;
        },
      },
      metrics,
      everyMs: 10,
      timeoutMs: 50,
    });
    const gauges = async () => metricsText(await metrics.registry.metrics());
    return { state, probe, gauges };
  }

  it('finds the journal directory writable, and leaves nothing in it', async () => {
    const { probe } = setUp();
    expect(await probe.liveness()).toEqual({ journal: 'writable' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is not live when the directory takes no write (gone, or a file where the directory should be)', async () => {
    expect(await setUp({ dir: join(dir, 'gone') }).probe.liveness()).toEqual({ journal: 'not_writable', error: 'ENOENT' });
    writeFileSync(join(dir, 'file'), '');
    expect(await setUp({ dir: join(dir, 'file') }).probe.liveness()).toEqual({ journal: 'not_writable', error: 'ENOTDIR' });
  });

  it('is not live once the journal is closed (shutting down)', async () => {
    const { state, probe } = setUp();
    state.closed = true;
    expect(await probe.liveness()).toEqual({ journal: 'closed' });
  });

  it('sets the up gauges from the last check, both ways', async () => {
    const { state, probe, gauges } = setUp();
    expect(await probe.dependencies()).toEqual({ clickhouse: 'up', redis: 'up' });
    expect((await gauges()).get('throughline_clickhouse_up')).toBe(1);
    state.clickhouse = false;
    expect(await probe.dependencies()).toEqual({ clickhouse: 'down', redis: 'up' });
    let g = await gauges();
    expect([g.get('throughline_clickhouse_up'), g.get('throughline_redis_up')]).toEqual([0, 1]);
    state.clickhouse = true;
    state.redis = false;
    await probe.dependencies();
    g = await gauges();
    expect([g.get('throughline_clickhouse_up'), g.get('throughline_redis_up')]).toEqual([1, 0]);
  });

  it('sets the backlog gauges; Redis’s keeps its last known length while Redis does not answer', async () => {
    const { state, probe, gauges } = setUp();
    let g = await gauges();
    // Present from the start, at 0.
    expect(g.get('throughline_spill_backlog_batches{where="disk"}')).toBe(0);
    expect(g.get('throughline_spill_backlog_batches{where="redis"}')).toBe(0);
    expect(g.get('throughline_spill_backlog_bytes{where="disk"}')).toBe(0);
    state.backlog = { diskBatches: 3, diskBytes: 1200, redisBatches: 7 };
    await probe.backlog();
    g = await gauges();
    expect(g.get('throughline_spill_backlog_batches{where="disk"}')).toBe(3);
    expect(g.get('throughline_spill_backlog_bytes{where="disk"}')).toBe(1200);
    expect(g.get('throughline_spill_backlog_batches{where="redis"}')).toBe(7);
    state.backlog = { diskBatches: 0, diskBytes: 0, redisBatches: null };
    await probe.backlog();
    g = await gauges();
    expect(g.get('throughline_spill_backlog_batches{where="disk"}')).toBe(0);
    expect(g.get('throughline_spill_backlog_batches{where="redis"}')).toBe(7);
  });

  it('runs in the background on an unref’d timer, and stops once the journal is closed', async () => {
    const { state, probe, gauges } = setUp();
    state.backlog = { diskBatches: 2, diskBytes: 10, redisBatches: 0 };
    probe.start();
    expect(probe.running).toBe(true);
    expect((probe as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(state.backlogCalls).toBeGreaterThan(1);
    expect((await gauges()).get('throughline_spill_backlog_batches{where="disk"}')).toBe(2);
    state.closed = true;
    await new Promise((r) => setTimeout(r, 50));
    expect(probe.running).toBe(false);
    const calls = state.backlogCalls;
    await new Promise((r) => setTimeout(r, 50));
    expect(state.backlogCalls).toBe(calls);
  });

  it('stop() stops it at once', () => {
    const { probe } = setUp();
    probe.start();
    probe.stop();
    expect(probe.running).toBe(false);
  });
});

describe('the spill backlog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-backlog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spillOn = (llen: () => Promise<number>) => {
    const redis = { llen } as unknown as Redis;
    const metrics = createMetrics();
    return new Spill({ dir, pid: process.pid, start: 1000, redis, redisMode: 'never', insert: async () => undefined, log: silentLog(), metrics });
  };

  it('counts what the next replay takes: its own spooled batches and a dead instance’s files, not its live journal nor a live instance’s files', async () => {
    writeFileSync(join(dir, fileName('s', process.pid, 1000, 1)), 'a'.repeat(100)); // spooled by this instance
    writeFileSync(join(dir, fileName('j', process.pid, 1000, 2)), 'b'.repeat(1000)); // this instance's journal
    writeFileSync(join(dir, fileName('j', DEAD_PID, 1, 1)), 'c'.repeat(10)); // left by a dead one
    writeFileSync(join(dir, fileName('s', DEAD_PID, 1, 2)), 'd'.repeat(1)); // left by a dead one
    writeFileSync(join(dir, fileName('s', process.ppid, 5, 1)), 'e'.repeat(10_000)); // another running instance's
    writeFileSync(join(dir, `bad-rows-${process.pid}-1000.jsonl`), 'f'); // never replayed
    const spill = spillOn(async () => 4);
    expect(await spill.backlog()).toEqual({ diskBatches: 3, diskBytes: 111, redisBatches: 4 });
    expect(existsSync(join(dir, fileName('j', process.pid, 1000, 2)))).toBe(true);
  });

  it('says null for Redis when it does not answer', async () => {
    const spill = spillOn(async () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false")));
    expect(await spill.backlog()).toEqual({ diskBatches: 0, diskBytes: 0, redisBatches: null });
  });
});
