// The Prometheus rules (deploy/prometheus/alerts.yml) checked against the code
// they watch, so they cannot drift from it: every metric an expression selects
// is one the collector registers (metrics/registry.ts, by name, with the labels
// it has), every label value of a closed set is one the collector writes, and
// every alert has a summary and a runbook link to a section of
// docs/operations.md that exists. Then promtool (Debian's prometheus package)
// checks the file and runs the rules over made-up series: each alert fires on
// the trouble it names and stays quiet on a healthy collector.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, OUTBOUND_OUTCOMES, SPILL_PLACES, SQL_OUTCOMES } from '../../collector/src/metrics/registry.js';
import { DROP_REASONS } from '../../collector/src/pipeline/reasons.js';
import { REFUSED, UNUSABLE_REASONS } from '../../collector/src/crm/status/unusable.js';
import { UNSENT_REASONS } from '../../collector/src/outbound/actions/planner.js';
import { NOT_MOVED } from '../../collector/src/outbound/trigger/decide.js';
import { NO_METRIKA_ID } from '../../collector/src/outbound/metrika/deal-planner.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const GUIDE = join(ROOT, 'docs/operations.md');

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type Rules = { groups: { name: string; rules: Rule[] }[] };

/** The YAML read by PyYAML (as tests/unit/deploy.test.ts reads the compose file): no parser of our own to get wrong. */
function readRules(): Rules {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: readFileSync(RULES, 'utf8'),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python3 with PyYAML could not read ${RULES}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Rules;
}
const rules = readRules();
const alerts = rules.groups.flatMap((g) => g.rules);

/** Series Prometheus makes itself (`up`): not the collector's. */
const EXTERNAL: Record<string, { job: string }> = { up: { job: 'throughline' } };
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

/** The label values the collector writes, where they are a closed set. */
const CLOSED: Record<string, Record<string, readonly string[]>> = {
  throughline_hits_dropped_total: { reason: DROP_REASONS },
  throughline_outbound_messages_total: { outcome: OUTBOUND_OUTCOMES },
  throughline_sql_queries_total: { outcome: SQL_OUTCOMES },
  throughline_outbound_changes_unsent_total: { reason: [...UNSENT_REASONS, ...NOT_MOVED, NO_METRIKA_ID] },
  throughline_crm_records_unusable_total: { reason: [...UNUSABLE_REASONS, REFUSED] },
  throughline_spill_backlog_batches: { where: SPILL_PLACES },
  throughline_spill_backlog_bytes: { where: ['disk'] },
};

type Selector = { metric: string; matchers: { label: string; op: string; value: string }[] };

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

/**
 * The series selectors of a PromQL expression: names not followed by `(` (a
 * function or an aggregation) and not keywords, each with its label matchers.
 * The grouping clauses' label lists and the range durations are taken out first.
 */
function selectors(expr: string): Selector[] {
  const plain = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  const out: Selector[] = [];
  for (const m of plain.matchAll(/([A-Za-z_:][\w:]*)\s*(?:\{([^}]*)\})?(\s*\()?/g)) {
    const [, name, body, call] = m;
    if (call || KEYWORDS.has(name!) || /^\d/.test(name!)) continue;
    const matchers = [...(body ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! }));
    out.push({ metric: name!, matchers });
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    const base = h[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('the alert rules', () => {
  const metrics = createMetrics();
  /** Each registered metric's labels; a histogram's series carry _bucket, _sum and _count. */
  const registered = new Map<string, string[]>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const labels = [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])];
    registered.set(m.name, labels);
    // prom-client's typings declare a numeric enum; at run time the type is the name ('histogram').
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) registered.set(m.name + s, s === '_bucket' ? [...labels, 'le'] : labels);
  }

  it('parses the selector of every form the rules use', () => {
    expect(selectors('sum by (reason) (rate(a_total{job="t",reason!~"bot|x"}[15m])) > on() group_left() 0.05 * sum(rate(b{job="t"}[15m]))')).toEqual([
      { metric: 'a_total', matchers: [{ label: 'job', op: '=', value: 't' }, { label: 'reason', op: '!~', value: 'bot|x' }] },
      { metric: 'b', matchers: [{ label: 'job', op: '=', value: 't' }] },
    ]);
    expect(selectors('min_over_time(g[1h]) > 0 unless up == 0').map((s) => s.metric)).toEqual(['g', 'up']);
  });

  it('holds alerts only, each named once, with a severity, a summary and a description', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const a of alerts) {
      expect(a.alert, a.expr).toMatch(/^Throughline[A-Z]\w+$/);
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.trim(), a.alert).toBeTruthy();
      expect(a.annotations?.description?.trim(), a.alert).toBeTruthy();
    }
  });

  it('selects only metrics the collector registers, by labels they have, on the scrape job of the collector', () => {
    for (const a of alerts) {
      const found = selectors(a.expr);
      expect(found.length, a.alert).toBeGreaterThan(0);
      for (const s of found) {
        const where = `${a.alert}: ${s.metric}`;
        const external = EXTERNAL[s.metric];
        const labels = external ? [] : registered.get(s.metric);
        expect(labels, `${where} is not registered in collector/src/metrics/registry.ts`).toBeDefined();
        for (const m of s.matchers) expect([...labels!, ...TARGET_LABELS], `${where}{${m.label}}`).toContain(m.label);
        // Every selector names its job: another job's series of the same name never fire these.
        expect(s.matchers.find((m) => m.label === 'job'), where).toEqual({ label: 'job', op: '=', value: external?.job ?? 'throughline' });
      }
    }
  });

  it('uses only label values the collector writes', () => {
    for (const a of alerts) {
      for (const s of selectors(a.expr)) {
        for (const m of s.matchers) {
          const closed = CLOSED[s.metric]?.[m.label];
          if (!closed) continue;
          // An equality names one value; a regex here is always a plain alternation of values.
          const values = m.op.endsWith('~') ? m.value.split('|') : [m.value];
          for (const v of values) expect(closed, `${a.alert}: ${s.metric}{${m.label}="${v}"}`).toContain(v);
        }
      }
    }
  });

  it('links each alert to a section of docs/operations.md that exists', () => {
    const sections = anchors(readFileSync(GUIDE, 'utf8'));
    for (const a of alerts) {
      const link = /^docs\/operations\.md#([a-z0-9-]+)$/.exec(a.annotations?.runbook_url ?? '');
      expect(link, `${a.alert}: runbook_url ${a.annotations?.runbook_url}`).not.toBeNull();
      expect([...sections], `${a.alert}: #${link![1]}`).toContain(link![1]);
    }
  });

  it('names in the guide every alert it holds, and every metric of the collector', () => {
    const guide = readFileSync(GUIDE, 'utf8');
    for (const a of alerts) expect(guide, a.alert).toContain(a.alert!);
    const own = [...registered.keys()].filter((n) => !/^throughline_(process|nodejs)_/.test(n));
    for (const name of own) expect(guide, name).toContain(`\`${name}`);
  });
});

describe('the alert rules in promtool', () => {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'tl-alerts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  const need = () => {
    if (which.status !== 0) expect.fail('promtool is not installed: apt-get install -y prometheus');
  };

  it('are valid rules whose templates parse', () => {
    need();
    const r = promtool('check', 'rules', RULES);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('fire on the trouble each names, and stay quiet on a healthy collector', () => {
    need();
    // The same rules without annotations: promtool compares an alert's annotations too,
    // rendered; what they say is checked above, what fires when is checked here.
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...r }) => r) })) }));
    const c = (labels = '') => `{job="throughline",instance="c1"${labels}}`;
    const c2 = (labels = '') => `{job="throughline",instance="c2"${labels}}`;
    const s = (series: string, values: string) => ({ series, values });
    const firing = (eval_time: string, alertname: string, ...labels: Record<string, string>[]) => ({
      eval_time,
      alertname,
      exp_alerts: labels.map((l) => ({ exp_labels: { severity: severityOf(alertname), ...l } })),
    });
    const quiet = (eval_time: string) => alerts.map((a) => ({ eval_time, alertname: a.alert!, exp_alerts: [] }));
    const target = { job: 'throughline', instance: 'c1' };
    const tests = [
      {
        // A healthy collector for three hours: hits accepted, a few bots and throttled visits,
        // a spill replayed at once, the outbox emptied after each deal.
        name: 'healthy',
        interval: '1m',
        input_series: [
          s(`up${c()}`, '1x200'),
          s(`throughline_clickhouse_up${c()}`, '1x200'),
          s(`throughline_redis_up${c()}`, '1x200'),
          s(`throughline_hits_accepted_total${c(',kind="visit"')}`, '0+600x200'),
          s(`throughline_hits_dropped_total${c(',reason="bot"')}`, '0+300x200'),
          s(`throughline_hits_dropped_total${c(',reason="throttled"')}`, '0+100x200'),
          s(`throughline_hits_dropped_total${c(',reason="invalid_url"')}`, '0+1x200'),
          s(`throughline_insert_failures_total${c()}`, '0x200'),
          s(`throughline_batches_spilled_total${c(',to="disk"')}`, '0x100 1x100'),
          s(`throughline_batches_replayed_total${c(',from="disk"')}`, '0x100 1x100'),
          // The one batch spilled waits a minute, then is replayed.
          s(`throughline_spill_backlog_batches${c(',where="disk"')}`, '0x99 1 0x100'),
          s(`throughline_spill_backlog_bytes${c(',where="disk"')}`, '0x99 396 0x100'),
          s(`throughline_spill_backlog_batches${c(',where="redis"')}`, '0x200'),
          s(`throughline_rows_buffered${c()}`, '600x200'),
          s(`throughline_nodejs_eventloop_lag_p99_seconds${c()}`, '0.02x200'),
          s(`throughline_process_open_fds${c()}`, '120x200'),
          s(`throughline_process_max_fds${c()}`, '65536x200'),
          s(`throughline_outbound_messages_total${c(',sender="ga4",outcome="sent"')}`, '0+1x200'),
          s(`throughline_outbound_messages_total${c(',sender="ga4",outcome="retried"')}`, '0+1x200'),
          s(`throughline_outbound_pending${c(',sender="ga4"')}`, '0 1 0 2 0x196'),
          s(`throughline_crm_records_unusable_total${c(',source="amo",reason="no_identity"')}`, '0+5x200'),
        ],
        alert_rule_test: [...quiet('30m'), ...quiet('3h')],
      },
      {
        name: 'trouble',
        interval: '1m',
        input_series: [
          s(`up${c()}`, '1x10 0x20'),
          s(`throughline_insert_failures_total${c()}`, '0+1x30'),
          s(`throughline_hits_accepted_total${c(',kind="visit"')}`, '0+100x30'),
          s(`throughline_hits_dropped_total${c(',reason="origin_not_allowed"')}`, '0+10x30'),
          s(`throughline_hits_dropped_total${c(',reason="rate_limited"')}`, '0+10x30'),
          s(`throughline_hits_dropped_total${c(',reason="bot"')}`, '0+100x30'),
          s(`throughline_rows_rejected_total${c(',table="hits"')}`, '0x10 3x20'),
          s(`throughline_rows_buffered${c()}`, '1000x10 400000x20'),
          s(`throughline_nodejs_eventloop_lag_p99_seconds${c()}`, '0.02x10 0.9x20'),
          s(`throughline_process_open_fds${c()}`, '100x10 900x20'),
          s(`throughline_process_max_fds${c()}`, '1024x30'),
        ],
        alert_rule_test: [
          firing('5m', 'ThroughlineCollectorDown'),
          firing('14m', 'ThroughlineCollectorDown', { ...target }),
          firing('10m', 'ThroughlineInsertsFailing', { ...target }),
          firing('20m', 'ThroughlineHitsDropped', { reason: 'origin_not_allowed' }),
          firing('20m', 'ThroughlineRateLimited', {}),
          firing('12m', 'ThroughlineRowsRejected', { instance: 'c1', table: 'hits' }),
          firing('14m', 'ThroughlineRowsBuffered'),
          firing('16m', 'ThroughlineRowsBuffered', { ...target }),
          firing('25m', 'ThroughlineEventLoopLag', { ...target }),
          firing('25m', 'ThroughlineFileDescriptors', { ...target }),
        ],
      },
      {
        // No hit for 90 minutes.
        name: 'no hits',
        interval: '1m',
        input_series: [s(`throughline_hits_accepted_total${c(',kind="visit"')}`, '0+10x10 100x110')],
        alert_rule_test: [
          firing('80m', 'ThroughlineNoHitsAccepted'),
          firing('110m', 'ThroughlineNoHitsAccepted', {}),
        ],
      },
      {
        // ClickHouse away from 11m to 40m on two collectors, Redis from 21m to 30m on c1. A batch
        // spilled each minute meanwhile; once ClickHouse is back c1 replays its spool one batch a
        // minute, c2's stays as it was (its replay is stuck). The Redis list stays empty.
        name: 'an outage, by the gauges',
        interval: '1m',
        input_series: [
          s(`throughline_clickhouse_up${c()}`, '1x10 0x29 1x40'),
          s(`throughline_clickhouse_up${c2()}`, '1x10 0x29 1x40'),
          s(`throughline_redis_up${c()}`, '1x20 0x9 1x50'),
          s(`throughline_redis_up${c2()}`, '1x80'),
          s(`throughline_spill_backlog_batches${c(',where="disk"')}`, '0x10 1+1x29 29-1x29 0x10'),
          s(`throughline_spill_backlog_batches${c2(',where="disk"')}`, '0x10 1+1x29 30x40'),
          s(`throughline_spill_backlog_batches${c(',where="redis"')}`, '0x80'),
          s(`throughline_spill_backlog_batches${c2(',where="redis"')}`, '0x80'),
        ],
        alert_rule_test: [
          firing('12m', 'ThroughlineClickHouseDown'),
          firing('14m', 'ThroughlineClickHouseDown', { ...target }, { ...target, instance: 'c2' }),
          firing('45m', 'ThroughlineClickHouseDown'),
          firing('23m', 'ThroughlineRedisDown', { ...target }),
          firing('35m', 'ThroughlineRedisDown'),
          // Growing since 11m: past 15 minutes of growth, once, for the disk.
          firing('20m', 'ThroughlineSpillBacklogGrowing'),
          firing('30m', 'ThroughlineSpillBacklogGrowing', { where: 'disk' }),
          firing('70m', 'ThroughlineSpillBacklogGrowing'),
          // ClickHouse back at 40m: c1's backlog falls and never fires; c2's, stuck, fires.
          firing('45m', 'ThroughlineSpillBacklogNotShrinking'),
          firing('65m', 'ThroughlineSpillBacklogNotShrinking', { ...target, instance: 'c2', where: 'disk' }),
          firing('80m', 'ThroughlineSpillBacklogNotShrinking', { ...target, instance: 'c2', where: 'disk' }),
        ],
      },
      {
        // GA4 refuses, Metrika fails every try from 30m on, the webhook receiver answers after retries;
        // stage events configured with GA4 off; a CRM status mapped to no stage.
        name: 'outbound',
        interval: '1m',
        input_series: [
          s(`throughline_outbound_messages_total${c(',sender="ga4",outcome="failed"')}`, '0x30 1x150'),
          s(`throughline_outbound_messages_total${c(',sender="ga4",outcome="too_old"')}`, '0x30 2x150'),
          s(`throughline_outbound_messages_total${c(',sender="metrika",outcome="retried"')}`, '0+1x180'),
          s(`throughline_outbound_messages_total${c(',sender="metrika",outcome="sent"')}`, '0+1x30 30x150'),
          s(`throughline_outbound_messages_total${c(',sender="webhook",outcome="retried"')}`, '0+1x180'),
          s(`throughline_outbound_messages_total${c(',sender="webhook",outcome="sent"')}`, '0+1x180'),
          s(`throughline_outbound_pending${c(',sender="metrika"')}`, '0 1 0x28 4x150'),
          s(`throughline_outbound_changes_unsent_total${c(',sender="ga4_event",reason="ga4_off"')}`, '0x30 1x150'),
          s(`throughline_crm_records_unusable_total${c(',source="amo",reason="unmapped_status"')}`, '0x30 1x150'),
        ],
        alert_rule_test: [
          firing('40m', 'ThroughlineOutboundRefused', { sender: 'ga4' }),
          firing('40m', 'ThroughlineOutboundTooOld', { sender: 'ga4' }),
          // Metrika's last send at 30m: an hour and a half later, the alert.
          firing('80m', 'ThroughlineOutboundRetryingWithoutSuccess'),
          firing('100m', 'ThroughlineOutboundRetryingWithoutSuccess', { sender: 'metrika' }),
          // Its outbox last empty at 30m: two hours later, the alert.
          firing('140m', 'ThroughlineOutboxNotEmptying'),
          firing('160m', 'ThroughlineOutboxNotEmptying', { ...target, sender: 'metrika' }),
          firing('40m', 'ThroughlineStageEventsWithGa4Off', {}),
          firing('40m', 'ThroughlineCrmRecordsUnusable', { source: 'amo', reason: 'unmapped_status' }),
          // An hour after the last refusal the counters stand still: nothing fires any more.
          firing('160m', 'ThroughlineOutboundRefused'),
          firing('160m', 'ThroughlineCrmRecordsUnusable'),
        ],
      },
    ];
    // Each alert is seen firing at least once.
    const seen = new Set(tests.flatMap((t) => t.alert_rule_test.filter((r) => r.exp_alerts.length > 0).map((r) => r.alertname)));
    expect(alerts.map((a) => a.alert).filter((n) => !seen.has(n!))).toEqual([]);
    writeFileSync(join(dir, 'tests.json'), JSON.stringify({ rule_files: ['rules.json'], evaluation_interval: '1m', tests }));
    const r = promtool('test', 'rules', 'tests.json');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

function severityOf(alertname: string): string {
  return alerts.find((a) => a.alert === alertname)!.labels!.severity!;
}
