// The server side of the 10-minute visit rule and the per-IP rate limit, in one
// Redis round trip (a Lua script). The checks of the hits that arrive within a
// few milliseconds go to Redis together, in one script call, so the hot path pays
// one round trip per GATHER_MS, not per hit. Waiting costs the hit nothing: it is
// acknowledged once journaled, and the verdict only decides whether its row stays
// in the batch (sealed BATCH_MAX_MS later). Fewer, larger calls also wake Redis
// less often, which on a small machine is CPU taken from the collector.
//
// Visit throttle: a visitor's `visit` hits count once per VISIT_THROTTLE_SECONDS
// (600 by default, the tracker's own rule and amoCRM's "site visit" trigger
// limit); a landing that brings a campaign other than the one the visitor's
// current visit began with is kept and starts a new window (the contract's rule,
// contract/campaign.ts: the window's key holds that campaign). Leads and tel:
// clicks are never throttled.
// Rate limit: at most RATE_LIMIT_PER_MINUTE hits per IP (hashed) and site per
// minute. Redis being down or slow fails open: hits are then accepted unlimited.
// Visitor ids: the same call renews the Redis key of every issued visitor id the
// hits carry (visitor-id/issue.ts), so an id in use never expires and costs the
// hit path no round trip of its own, and records the GA client id and Metrika id
// the hit carries with it, by which a visitor whose cookie was lost gets the id
// back (visitor-id/recover.ts).
import type { Redis } from 'ioredis';
import { ID_LENGTH } from '../visitor-id/id.js';
import { idKey, VISITOR_ID_TTL_SECONDS } from '../visitor-id/issue.js';
import { clientIdKey } from '../visitor-id/recover.js';

// One call carries the checks of a whole turn, packed into one string (ARGV[5]):
// a line per hit, `<mode>\t<site>\t<who>\t<ip key>\t<visitor id>\t<GA id>\t<Metrika id>\t<campaign>\n`,
// mode 0 not throttled (not a visit), 1 a visit; the visitor id is empty when the
// hit carries none (so are the client ids then), the campaign when the landing brings none. ARGV[6] is the key of an
// issued id without the id, ARGV[7] the TTL it is renewed to (0: none), ARGV[8]
// and ARGV[9] the keys of a GA and a Metrika id's visitor id without the client id. One argument
// instead of three per hit: the client's cost per argument is what the hot path
// would pay. The keys are built in the script (so the key prefix comes as ARGV[1]);
// this needs a single Redis or a primary with replicas, not Redis Cluster.
// Returns one digit per hit: 0 ok, 1 throttled, 2 rate limited.
const SCRIPT = `
local prefix = ARGV[1]
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local minute = ARGV[4]
local vidKey = ARGV[6]
local vidTtl = tonumber(ARGV[7])
local cidKeys = { ARGV[8], ARGV[9] }
local modes, sites, whos, rates, vids, camps = {}, {}, {}, {}, {}, {}
local n = 0
for mode, site, who, ip, vid, ga, ym, camp in string.gmatch(ARGV[5], '([01])\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\n]*)\\n') do
  n = n + 1
  modes[n], sites[n], whos[n], rates[n], camps[n] = mode, site, who, site .. ':' .. ip, camp
  if vid ~= '' then
    local cids = vids[vid] or {}
    if ga ~= '' then cids[1] = ga end
    if ym ~= '' then cids[2] = ym end
    vids[vid] = cids
  end
end
-- An issued id lives VISITOR_ID_TTL past its last hit; EXPIRE creates no key for
-- an id never issued. A client id seen with an issued id goes with it as long:
-- the first id it went with stays (SET NX), and is renewed by its own hits.
if vidTtl > 0 then
  for vid, cids in pairs(vids) do
    if redis.call('EXPIRE', prefix .. vidKey .. vid, vidTtl) == 1 then
      for i, cid in pairs(cids) do
        local k = prefix .. cidKeys[i] .. cid
        if not redis.call('SET', k, vid, 'EX', vidTtl, 'NX') and redis.call('GET', k) == vid then redis.call('EXPIRE', k, vidTtl) end
      end
    end
  end
end
-- The rate limit: one INCRBY per site and address of the call (one NAT or office
-- sends many hits per turn); the j-th hit of a key in the call is its
-- (before + j)-th of the minute.
local over = {}
if limit > 0 then
  local count, order = {}, {}
  for i = 1, n do
    local k = rates[i]
    local c = count[k]
    if c == nil then
      c = 0
      order[#order + 1] = k
    end
    count[k] = c + 1
    over[i] = c + 1
  end
  local before = {}
  for _, k in ipairs(order) do
    local rl = prefix .. 'rl:' .. k .. ':' .. minute
    local total = redis.call('INCRBY', rl, count[k])
    if total == count[k] then redis.call('EXPIRE', rl, 60) end
    before[k] = total - count[k]
  end
  for i = 1, n do over[i] = before[rates[i]] + over[i] > limit end
end
local out = {}
for i = 1, n do
  local r = 0
  if over[i] then
    r = 2
  elseif window > 0 and modes[i] ~= '0' then
    local th = prefix .. 'th:' .. sites[i] .. ':' .. whos[i]
    -- A new window holds the campaign its visit began with; within it, only a
    -- landing that brings another campaign is a visit, and it starts a new window.
    if not redis.call('SET', th, camps[i], 'EX', window, 'NX') then
      local camp = camps[i]
      if camp ~= '' and redis.call('GET', th) ~= camp then
        redis.call('SET', th, camp, 'EX', window)
      else
        r = 1
      end
    end
  end
  out[i] = r
end
return table.concat(out)
`;

export type LimitVerdict = 'ok' | 'throttled' | 'rate_limited';

export type LimitQuery = {
  siteId: string;
  /** Whose visits are throttled: visitor id, else a client id, else the IP hash. */
  who: string;
  ipKey: string;
  /** Only `visit` hits are throttled. */
  throttle: boolean;
  /** The campaign the landing brings (contract/campaign.ts campaignOf), '' for none. */
  campaign: string;
  /** The Throughline visitor id the hit carries (its key is renewed), or ''. */
  visitorId: string;
  /** The GA client id and Metrika id the hit carries, or '': recorded with an issued visitor id. */
  gaCid: string;
  ymUid: string;
};

const VERDICTS: Record<string, LimitVerdict> = { '0': 'ok', '1': 'throttled', '2': 'rate_limited' };

/** Tabs and newlines would break the packed lines; ids are client strings, so they are replaced. */
const SEPARATORS = /[\t\n]/g;
const safe = (s: string) => (s.includes('\t') || s.includes('\n') ? s.replace(SEPARATORS, ' ') : s);

/** Who hears a hit's verdict: an object per hit, not a closure (the hot path makes one per hit already). */
export interface LimitTarget {
  limited(verdict: LimitVerdict): void;
}
type WithScript = Redis & { tlVisitLimits(...args: Array<string | number>): Promise<string> };

/** How long the first check of a call waits for others to join it. */
const GATHER_MS = 5;
/** A call is sent at once when it holds this many checks. */
const GATHER_MAX = 2000;

export class VisitLimits {
  private readonly redis: WithScript;
  /** The next call's packed lines, by minute (a call rarely spans two). */
  private lines = '';
  private minute = 0;
  /** Who hears each line's verdict; null for a line that only renews a visitor id. */
  private waiting: Array<LimitTarget | null> = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flushSoon = () => this.flush();

  constructor(
    redis: Redis,
    private readonly throttleSeconds: number,
    private readonly perMinute: number,
    private readonly onError: (err: Error) => void = () => {},
    /** What a visitor id's key is renewed to by each hit carrying it; 0 renews nothing. */
    private readonly idTtlSeconds: number = VISITOR_ID_TTL_SECONDS,
  ) {
    if (!('tlVisitLimits' in redis)) redis.defineCommand('tlVisitLimits', { lua: SCRIPT, numberOfKeys: 0 });
    this.redis = redis as WithScript;
  }

  /** True when neither rule is on and no id is renewed: no Redis call is made at all. */
  get off(): boolean {
    return this.throttleSeconds === 0 && this.perMinute === 0 && this.idTtlSeconds === 0;
  }

  /** Tells `target` the verdict once its call is answered (or Redis failed: 'ok'). */
  check(q: LimitQuery, now: number, target: LimitTarget): void {
    const throttle = q.throttle && this.throttleSeconds > 0;
    // Only an id of the issued form can have a key to renew.
    const vid = this.idTtlSeconds > 0 && q.visitorId.length === ID_LENGTH ? q.visitorId : '';
    let hears: LimitTarget | null = target;
    if (!throttle && this.perMinute === 0) {
      target.limited('ok');
      if (vid === '') return;
      hears = null;
    }
    const minute = Math.floor(now / 60_000);
    if (this.waiting.length > 0 && minute !== this.minute) this.flush();
    if (this.waiting.length === 0) {
      this.minute = minute;
      this.timer = setTimeout(this.flushSoon, GATHER_MS);
    }
    const [ga, ym] = vid === '' ? ['', ''] : [safe(q.gaCid), safe(q.ymUid)];
    this.lines += `${throttle ? '1' : '0'}\t${q.siteId}\t${safe(q.who)}\t${q.ipKey}\t${safe(vid)}\t${ga}\t${ym}\t${throttle ? safe(q.campaign) : ''}\n`;
    this.waiting.push(hears);
    if (this.waiting.length >= GATHER_MAX) this.flush();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting;
    if (batch.length === 0) return;
    const lines = this.lines;
    this.waiting = [];
    this.lines = '';
    const answer = (verdicts: string) => {
      for (let i = 0; i < batch.length; i++) batch[i]?.limited(VERDICTS[verdicts[i] ?? '0'] ?? 'ok');
    };
    this.redis
      .tlVisitLimits(
        this.redis.options.keyPrefix ?? '',
        this.throttleSeconds,
        this.perMinute,
        this.minute,
        lines,
        idKey(''),
        this.idTtlSeconds,
        clientIdKey('ga', ''),
        clientIdKey('ym', ''),
      )
      .then(answer, (err: unknown) => {
        this.onError(err as Error);
        answer('');
      });
  }
}
