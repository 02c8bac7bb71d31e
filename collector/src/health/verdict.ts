// The verdicts of the health routes, apart from the I/O that feeds them.
//
// Liveness (/livez) asks only what the collector needs to take a hit: a hit is
// acknowledged once its row is in the journal (buffer/journal-buffer.ts), and
// every row ClickHouse cannot take goes to the spool beside it, so the rule is
//   live = the journal is open (not shutting down) and SPOOL_DIR takes a write.
// ClickHouse and Redis are not part of it: while they are down hits are still
// acknowledged and kept (docs/operations.md, "When ClickHouse is down"), and a
// load balancer that took the collector out then would lose them at the door.
//
// Readiness (/readyz) adds what storing needs: ClickHouse and Redis reachable.

export type Up = 'up' | 'down';

/** The journal's state: writable, refusing writes, or closed (the collector shuts down). */
export type Journal = 'writable' | 'not_writable' | 'closed';

export type Liveness = { journal: Journal; error?: string };

export type Dependencies = { clickhouse: Up; redis: Up };

export type Verdict = { status: 200 | 503; body: Record<string, unknown> };

export function livezVerdict(l: Liveness): Verdict {
  const live = l.journal === 'writable';
  return { status: live ? 200 : 503, body: { status: live ? 'live' : 'not_live', journal: l.journal, ...(l.error ? { error: l.error } : {}) } };
}

/** 503 names every part that is down in `down`: `journal`, `clickhouse`, `redis`. */
export function readyzVerdict(l: Liveness, d: Dependencies): Verdict {
  const down = [...(l.journal === 'writable' ? [] : ['journal']), ...(['clickhouse', 'redis'] as const).filter((s) => d[s] === 'down')];
  const ready = down.length === 0;
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', journal: l.journal, clickhouse: d.clickhouse, redis: d.redis, down } };
}

/** /healthz as it always answered: both services reachable, or 503 (`buffered`: rows not yet stored). */
export function healthzVerdict(d: Dependencies, buffered: number): Verdict {
  const ok = d.clickhouse === 'up' && d.redis === 'up';
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', clickhouse: d.clickhouse, redis: d.redis, buffered } };
}
