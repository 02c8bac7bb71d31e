// The server side of the 10-minute visit rule and the per-IP rate limit, in one
// Redis round trip (a Lua script). The checks of all hits that arrive during one
// event-loop turn go to Redis together, in one script call, so the hot path pays
// one round trip per turn, not per hit.
//
// Visit throttle: a visitor's `visit` hits count once per VISIT_THROTTLE_SECONDS
// (600 by default, the tracker's own rule and amoCRM's "site visit" trigger
// limit); a landing that brings a campaign or click id is always kept and starts
// a new window. Leads and tel: clicks are never throttled.
// Rate limit: at most RATE_LIMIT_PER_MINUTE hits per IP (hashed) and site per
// minute. Redis being down or slow fails open: hits are then accepted unlimited.
import type { Redis } from 'ioredis';

// KEYS: throttle key and rate key of hit 1, of hit 2, ...
// ARGV: window seconds, limit per minute, then one mode per hit:
//   0 not throttled (not a visit), 1 throttled, 2 fresh landing (kept, window restarts)
// Returns one verdict per hit: 0 ok, 1 throttled, 2 rate limited.
const SCRIPT = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local out = {}
for i = 1, #ARGV - 2 do
  local th, rl, mode = KEYS[2 * i - 1], KEYS[2 * i], ARGV[i + 2]
  local r = 0
  if limit > 0 then
    local n = redis.call('INCR', rl)
    if n == 1 then redis.call('EXPIRE', rl, 60) end
    if n > limit then r = 2 end
  end
  if r == 0 and window > 0 and mode ~= '0' then
    if mode == '2' then
      redis.call('SET', th, '1', 'EX', window)
    elseif not redis.call('SET', th, '1', 'EX', window, 'NX') then
      r = 1
    end
  end
  out[i] = r
end
return out
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

const VERDICTS: LimitVerdict[] = ['ok', 'throttled', 'rate_limited'];

type WithScript = Redis & { tlVisitLimits(numKeys: number, ...args: Array<string | number>): Promise<number[]> };
type Waiting = { keys: [string, string]; mode: string; resolve: (v: LimitVerdict) => void };

export class VisitLimits {
  private readonly redis: WithScript;
  private waiting: Waiting[] = [];

  constructor(
    redis: Redis,
    private readonly throttleSeconds: number,
    private readonly perMinute: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    if (!('tlVisitLimits' in redis)) redis.defineCommand('tlVisitLimits', { lua: SCRIPT });
    this.redis = redis as WithScript;
  }

  /** True when neither rule is on: no Redis call is made at all. */
  get off(): boolean {
    return this.throttleSeconds === 0 && this.perMinute === 0;
  }

  check(q: LimitQuery, now: number): Promise<LimitVerdict> {
    const throttle = q.throttle && this.throttleSeconds > 0;
    if (!throttle && this.perMinute === 0) return Promise.resolve('ok');
    const minute = Math.floor(now / 60_000);
    return new Promise((resolve) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({
        keys: [`th:${q.siteId}:${q.who}`, `rl:${q.siteId}:${q.ipKey}:${minute}`],
        mode: !throttle ? '0' : q.fresh ? '2' : '1',
        resolve,
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const keys: string[] = [];
    const modes: string[] = [];
    for (const w of batch) {
      keys.push(w.keys[0], w.keys[1]);
      modes.push(w.mode);
    }
    let verdicts: number[] | null = null;
    try {
      verdicts = await this.redis.tlVisitLimits(keys.length, ...keys, this.throttleSeconds, this.perMinute, ...modes);
    } catch (err) {
      this.onError(err as Error);
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(VERDICTS[verdicts?.[i] ?? 0] ?? 'ok');
  }
}
