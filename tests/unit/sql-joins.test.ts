// Every subquery on either side of a JOIN has an alias. ClickHouse since 20.x
// (joined_subquery_requires_alias, on by default) refuses a JOIN whose subquery
// has none ("no alias for subquery or table function", ALIAS_REQUIRED), where
// 18.16, which the integration suite runs, knows no such rule: without this
// check the reports and analyst views would pass every test here and fail on
// the ClickHouse our users run. Checked on the SQL the collector builds: the
// reports of every model and grouping, identity resolution, the analyst views.
import { describe, expect, it } from 'vitest';
import { creditsSql } from '../../collector/src/attribution/credits-sql.js';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { conversionsInsertSql, inputQueries, touchesInsertSql } from '../../collector/src/attribution/resolve.js';
import { viewStatements } from '../../collector/src/attribution/views.js';
import { costsSql, creditsReportSql, GROUPS, stagesSql, trafficSql } from '../../collector/src/reports/queries.js';

const period = { from: '2026-01-01', to: '2026-01-31' };

/** The end of the parenthesised group that opens at `open`. */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The opening parenthesis of the group that closes at `close`. */
function opening(sql: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (sql[i] === ')') depth++;
    else if (sql[i] === '(' && --depth === 0) return i;
  }
  return -1;
}

/** The JOINs of `sql` with a subquery side that has no alias: a few words around each. */
export function unaliasedJoins(sql: string): string[] {
  const found: string[] = [];
  const join = /\b(?:(?:ANY|ALL|ASOF|SEMI|ANTI)\s+)?(?:(?:LEFT|RIGHT|INNER|FULL|CROSS)\s+)?(?:OUTER\s+)?JOIN\b/gi;
  for (let m; (m = join.exec(sql)); ) {
    // The left side: what stands before the JOIN keywords. `) ARRAY JOIN` is no join of two sides.
    if (/\bARRAY\s+$/i.test(sql.slice(0, m.index))) continue;
    const before = sql.slice(0, m.index).trimEnd();
    // `FROM (…) JOIN`: a subquery right before the keywords (not a function call's arguments).
    if (before.endsWith(')')) {
      const start = opening(sql, before.length - 1);
      if (/\bFROM\s*$/i.test(sql.slice(0, start))) found.push(`left side before "${m[0]}" at ${m.index}`);
    }
    // The right side: a subquery right after the keywords must be followed by AS name.
    const after = sql.slice(m.index + m[0].length);
    const lead = after.length - after.trimStart().length;
    if (after.trimStart().startsWith('(')) {
      const open = m.index + m[0].length + lead;
      const close = closing(sql, open);
      if (!/^\s*AS\s+\w+/i.test(sql.slice(close + 1))) found.push(`right side of "${m[0]}" at ${m.index}`);
    }
  }
  return found;
}

describe('JOINs on subqueries carry aliases (current ClickHouse requires them)', () => {
  it('the check finds a missing alias on either side, and passes aliased ones', () => {
    expect(unaliasedJoins('SELECT a FROM (SELECT 1 AS a) ANY LEFT JOIN (SELECT 1 AS a) USING a')).toHaveLength(2);
    expect(unaliasedJoins('SELECT a FROM (SELECT 1 AS a) AS l ANY LEFT JOIN (SELECT 1 AS a) AS r USING a')).toEqual([]);
    expect(unaliasedJoins('SELECT a FROM t ARRAY JOIN x AS a')).toEqual([]);
    expect(unaliasedJoins('SELECT a FROM db.t AS l ALL INNER JOIN (SELECT f(x) AS a FROM u) USING a')).toHaveLength(1);
  });

  const statements: [string, string][] = [
    ...MODEL_NAMES.map((model) => [`credits ${model}`, creditsSql({ db: 'tl', model, windowDays: 90, period })] as [string, string]),
    ...MODEL_NAMES.flatMap((model) =>
      GROUPS.map((group) => [`report ${model} by ${group}`, creditsReportSql({ db: 'tl', model, windowDays: 90, period, group }, ['Lead', 'Paid'])] as [string, string]),
    ),
    ...GROUPS.map((group) => [`traffic by ${group}`, trafficSql({ db: 'tl', period, group })] as [string, string]),
    ...GROUPS.map((group) => [`costs by ${group}`, costsSql({ db: 'tl', period, group })] as [string, string]),
    ['stages', stagesSql('tl')],
    ['conversions', conversionsInsertSql('tl', { generation: 1, run: 1 })],
    ['touches', touchesInsertSql('tl', { generation: 1, run: 1 })],
    ['touches of some conversions', touchesInsertSql('tl', { generation: 1, run: 2 }, true)],
    ['touches of some conversions, on a cluster', touchesInsertSql('tl', { generation: 1, run: 2 }, true, true)],
    ['conversions, some', conversionsInsertSql('tl', { generation: 1, run: 2 }, true)],
    ...Object.entries(inputQueries('tl')).map(([name, sql]) => [`resolution input ${name}`, sql] as [string, string]),
    ...viewStatements('tl', 90).map((v) => [`view ${v.name}`, v.sql] as [string, string]),
  ];

  it.each(statements)('%s', (_name, sql) => {
    expect(unaliasedJoins(sql)).toEqual([]);
  });
});
