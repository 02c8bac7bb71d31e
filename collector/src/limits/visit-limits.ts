// The server side of the 10-minute visit rule and the per-IP rate limit, in one
// Redis round trip (a Lua script), so the hot path pays one call per hit at most.
//
// Visit throttle: a visitor's `visit` hits count once per VISIT_THROTTLE_SECONDS
// (600 by default, the tracker's own rule and amoCRM's "site visit" trigger
// limit); a landing that brings a campaign or click id is always kept and starts
// a new window. Leads and tel: clicks are never throttled.
// Rate limit: at most RATE_LIMIT_PER_MINUTE hits per IP (hashed) and site per
// minute. Redis being down or slow fails open: hits are then accepted unlimited.
import type { Redis } from 'ioredis';

const SCRIPT = `
local limit = tonumber(ARGV[3])
if limit > 0 then
  local n = redis.call('INCR', KEYS[2])
  if n == 1 then redis.call('EXPIRE', KEYS[2], 60) end
  if n > limit then return 2 end
end
local window = tonumber(ARGV[1])
if window > 0 then
  if ARGV[2] == '1' then
    redis.call('SET', KEYS[1], '1', 'EX', window)
  elseif not redis.call('SET', KEYS[1], '1', 'EX', window, 'NX') then
    return 1
  end
end
return 0
`;

export type LimitVerdict = 'ok' | 'throttled' | 'rate_limited';

export type LimitQuery = {
  siteId: string;
  /** Whose visits are throttled: visitor id, else a client id, else the IP hash. */
  who: string;
  ipKey: string;
  /** Only `visit` hits are throttled. */
  throttle: boolean;
  /** The landing carries a campaign or click id: keep it and restart the window. */
  fresh: boolean;
};

type WithScript = Redis & {
  tlVisitLimits(k1: string, k2: string, window: number, fresh: string, limit: number): Promise<number>;
};

export class VisitLimits {
  private readonly redis: WithScript;

  constructor(
    redis: Redis,
    private readonly throttleSeconds: number,
    private readonly perMinute: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    if (!('tlVisitLimits' in redis)) redis.defineCommand('tlVisitLimits', { numberOfKeys: 2, lua: SCRIPT });
    this.redis = redis as WithScript;
  }

  /** True when neither rule is on: no Redis call is made at all. */
  get off(): boolean {
    return this.throttleSeconds === 0 && this.perMinute === 0;
  }

  async check(q: LimitQuery, now: number): Promise<LimitVerdict> {
    const window = q.throttle ? this.throttleSeconds : 0;
    if (window === 0 && this.perMinute === 0) return 'ok';
    const minute = Math.floor(now / 60_000);
    try {
      const r = await this.redis.tlVisitLimits(
        `th:${q.siteId}:${q.who}`,
        `rl:${q.siteId}:${q.ipKey}:${minute}`,
        window,
        q.fresh ? '1' : '0',
        this.perMinute,
      );
      return r === 1 ? 'throttled' : r === 2 ? 'rate_limited' : 'ok';
    } catch (err) {
      this.onError(err as Error);
      return 'ok';
    }
  }
}
