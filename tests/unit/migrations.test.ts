import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements } from '../../collector/src/clickhouse/migrate.js';

describe('migrations', () => {
  it('splits a file into statements and drops comment lines', () => {
    expect(splitStatements('-- note; with semicolon\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b (y String) ENGINE = Memory;\n')).toEqual([
      'CREATE TABLE a (x UInt8) ENGINE = Memory',
      'CREATE TABLE b (y String) ENGINE = Memory',
    ]);
  });
  // DROP TABLE IF EXISTS only for derived tables created anew just after it (0023).
  it('ships numbered, uniquely versioned, idempotent files', async () => {
    const list = await loadMigrations();
    expect(list.length).toBeGreaterThan(0);
    expect(list.map((m) => m.version)).toEqual([...list.map((m) => m.version)].sort((a, b) => a - b));
    for (const m of list) {
      for (const s of m.statements) expect(s).toMatch(/^(CREATE (TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS|DROP TABLE IF EXISTS|ALTER|INSERT)/);
    }
  });
});
