// Where the tests find the real services. Same variables as the collector, but
// the tests' default engine is the ClickHouse server (Debian's 18.16); the
// project "embedded" of vitest.config.ts runs the integration suite again with
// CLICKHOUSE_URL=embedded (ClickHouse 26.x inside each collector: clickhouse.ts).
export const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
/** The suite runs on the embedded engine. */
export const EMBEDDED_ENGINE = CLICKHOUSE_URL === 'embedded';
/** The SQL endpoint's token of every collector the tests start on the embedded engine (how tests read its data). */
export const TEST_SQL_TOKEN = 'tests-read-through-the-sql-endpoint';
