import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../collector/src/config.js';

describe('collector configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.clickhouse).toEqual({ url: 'http://127.0.0.1:8123', user: 'default', password: '', database: 'throughline' });
    expect(c.batch).toEqual({ maxRows: 50_000, maxMs: 1000 });
    expect(c.reports).toEqual({ token: undefined, windowDays: 90, maxAgeSeconds: 0 });
  });
  it('reads the reports settings and refuses a short token or a window over a year', () => {
    expect(loadConfig({ REPORTS_TOKEN: 'x'.repeat(16), ATTRIBUTION_WINDOW_DAYS: '30', ATTRIBUTION_MAX_AGE_SECONDS: '60' }).reports).toEqual({ token: 'x'.repeat(16), windowDays: 30, maxAgeSeconds: 60 });
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
