import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../collector/src/config.js';

describe('hit pipeline configuration', () => {
  it('has defaults: 10-minute visit throttle, hashed IPs, bot filter on', () => {
    const p = loadConfig({}).pipeline;
    expect(p).toMatchObject({ visitThrottleSeconds: 600, rateLimitPerMinute: 600, ipMode: 'hash', botFilter: true, trustedProxies: [], journalFsync: false });
    expect(p.spoolDir).toBeUndefined();
  });
  it('reads VISIT_THROTTLE_SECONDS (0 disables), proxies and modes', () => {
    const p = loadConfig({ VISIT_THROTTLE_SECONDS: '0', TRUSTED_PROXIES: 'loopback, 10.0.0.0/8', IP_MODE: 'anonymize', BOT_FILTER: 'off', JOURNAL_FSYNC: '1' }).pipeline;
    expect(p).toMatchObject({ visitThrottleSeconds: 0, trustedProxies: ['loopback', '10.0.0.0/8'], ipMode: 'anonymize', botFilter: false, journalFsync: true });
  });
  it('names bad variables', () => {
    let err: unknown;
    try {
      loadConfig({ VISIT_THROTTLE_SECONDS: '-1', IP_MODE: 'plain', BATCH_MAX_BYTES: '10' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['VISIT_THROTTLE_SECONDS', 'IP_MODE', 'BATCH_MAX_BYTES']) expect((err as Error).message).toMatch(name);
  });
});
