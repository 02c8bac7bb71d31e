// The HTTP server's limits, METRICS_TOKEN and the /vid rate limit as read from
// the environment (collector/src/config.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../collector/src/config.js';

describe('HTTP configuration', () => {
  it('5. has bounds on slow clients by default, each configurable', () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 30,
      keepAliveTimeoutSeconds: 65,
      maxConnections: 10_000,
      metricsToken: undefined,
      vidRatePerMinute: 60,
    });
    const c = loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '5', HTTP_REQUEST_TIMEOUT_SECONDS: '20', HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '5', HTTP_MAX_CONNECTIONS: '500' }).http;
    expect(c).toMatchObject({ headersTimeoutSeconds: 5, requestTimeoutSeconds: 20, keepAliveTimeoutSeconds: 5, maxConnections: 500 });
  });

  it('5. refuses a time for the headers longer than the time for the whole request, and limits that are not numbers', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '30' })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_SECONDS: 'soon' })).toThrow(/HTTP_REQUEST_TIMEOUT_SECONDS/);
  });

  it('16b. takes a METRICS_TOKEN of 16 characters or more', () => {
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(16) }).http.metricsToken).toBe('m'.repeat(16));
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
