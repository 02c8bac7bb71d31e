// Where the tests find the real services. Same variables as the collector.
export const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
