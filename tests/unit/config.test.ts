import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { ConfigError, loadConfig } from '../../collector/src/config.js';

describe('collector configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    // The embedded engine, its data under the project's data/ folder.
    expect(c.clickhouse).toEqual({ url: 'embedded', user: 'default', password: '', database: 'throughline', data: join(ROOT, 'data', 'clickhouse') });
    expect(c.batch).toEqual({ maxRows: 50_000, maxMs: 1000 });
    expect(c.reports).toEqual({ token: undefined, windowDays: 90, maxAgeSeconds: 0, fullEveryHours: 24 });
  });
  it('takes a server by URL or the embedded engine, and names CLICKHOUSE_URL when it is neither', () => {
    expect(loadConfig({ CLICKHOUSE_URL: 'http://127.0.0.1:8123' }).clickhouse.url).toBe('http://127.0.0.1:8123');
    expect(loadConfig({ CLICKHOUSE_URL: 'embedded', CLICKHOUSE_DATA: 'rel/dir' }).clickhouse.data).toBe(resolve('rel/dir'));
    expect(() => loadConfig({ CLICKHOUSE_URL: 'embeded' })).toThrow(/CLICKHOUSE_URL/);
  });
  it('reads the reports settings and refuses a short token or a window over a year', () => {
    expect(loadConfig({ REPORTS_TOKEN: 'x'.repeat(16), ATTRIBUTION_WINDOW_DAYS: '30', ATTRIBUTION_MAX_AGE_SECONDS: '60' }).reports).toEqual({ token: 'x'.repeat(16), windowDays: 30, maxAgeSeconds: 60, fullEveryHours: 24 });
    expect(() => loadConfig({ REPORTS_TOKEN: 'short' })).toThrow(/REPORTS_TOKEN/);
    expect(() => loadConfig({ ATTRIBUTION_WINDOW_DAYS: '400' })).toThrow(/ATTRIBUTION_WINDOW_DAYS/);
  });
  it('spills to Redis only when it persists, unless told otherwise', () => {
    expect(loadConfig({}).pipeline.spillRedis).toBe('auto');
    expect(loadConfig({ SPILL_REDIS: 'never' }).pipeline.spillRedis).toBe('never');
    expect(() => loadConfig({ SPILL_REDIS: 'sometimes' })).toThrow(/SPILL_REDIS/);
  });
  it('reads values from the environment', () => {
    const c = loadConfig({ THROUGHLINE_PORT: '9000', CLICKHOUSE_DATABASE: 'tl_x', BATCH_MAX_ROWS: '50' });
    expect(c.port).toBe(9000);
    expect(c.clickhouse.database).toBe('tl_x');
    expect(c.batch.maxRows).toBe(50);
  });
  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ THROUGHLINE_PORT: 'eighty', CLICKHOUSE_DATABASE: 'x;drop', REDIS_URL: 'localhost' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/THROUGHLINE_PORT/);
    expect(msg).toMatch(/CLICKHOUSE_DATABASE/);
    expect(msg).toMatch(/REDIS_URL/);
  });
});
