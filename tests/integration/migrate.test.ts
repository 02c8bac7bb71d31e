import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../collector/src/clickhouse/client.js';
import { loadMigrations, migrate } from '../../collector/src/clickhouse/migrate.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';

describe('schema migrations on the real ClickHouse', () => {
  let db: TestDatabase;
  afterAll(async () => db?.drop());

  it('creates the tables, records each version once, and is harmless to run again', async () => {
    db = await freshDatabase();
    const versions = (await loadMigrations()).map((m) => m.version);
    const recorded = await db.rows<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(recorded.map((r) => Number(r.version))).toEqual(versions);
    const tables = await db.rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db.name}'`);
    expect(tables.map((t) => t.name)).toContain('hits');

    const admin = connect(db.target, null);
    const again = await migrate(admin, db.name);
    await admin.close();
    expect(again).toEqual([]);
    const after = await db.rows<{ n: string }>('SELECT count() AS n FROM schema_migrations');
    expect(Number(after[0]!.n)).toBe(versions.length);
  });
});
