// The collector's whole configuration, read once from environment variables and
// validated before anything starts: a bad or missing value stops the process with
// a message that names the variable.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { VISIT_WINDOW_SECONDS } from '../../contract/campaign.js';
import { CURRENCY, parseFixedRates, type ReportMoney } from './currency/rate.js';
import { GOAL_RULE, GOAL_RULE_TEXT, isTimeZone } from './outbound/metrika/rules.js';
import { ROOT } from './paths.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** IDENTITY_KEY values anyone can read (the old default): hashes under them protect nothing. */
const PUBLIC_IDENTITY_KEYS = ['throughline-development-key-change-me'];

const schema = z.object({
  /** Address to listen on (`0.0.0.0` in a container, or every address of the host). */
  THROUGHLINE_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port to listen on. */
  THROUGHLINE_PORT: int(0, 65535).default(8080),
  /** Public base URL of the collector, as the tracker on a site sees it. */
  THROUGHLINE_PUBLIC_URL: z.url().optional(),
  /** A ClickHouse server's HTTP address, or `embedded`: the engine inside the collector (clickhouse/embedded.ts). */
  CLICKHOUSE_URL: z.union([z.literal('embedded'), z.url()], { error: "a ClickHouse server's URL (http://host:8123) or embedded" }).default('embedded'),
  /** The embedded engine's data directory (one collector process per directory). */
  CLICKHOUSE_DATA: z.string().min(1).default(join(ROOT, 'data', 'clickhouse')),
  /** A ClickHouse server's user and password. */
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /** Database; created and migrated at start. */
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only').default('throughline'),
  /**
   * A cluster of the servers' remote_servers: the schema in its cluster form (replicated tables
   * sharded behind Distributed ones, DDL ON CLUSTER: clickhouse/cluster.ts). Empty: one server.
   */
  CLICKHOUSE_CLUSTER: z.union([z.literal(''), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only')]).default(''),
  /** The Redis every collector of the installation shares: limits, visitor ids, the daily salt, spilled batches. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key, so several installations (or test runs) can share one Redis. */
  REDIS_PREFIX: z.string().default('tl:'),
  /**
   * An insert is sent when this many rows are buffered ... Large: every insert
   * is a part ClickHouse must merge, so at a few thousand hits/s the time bound
   * should decide (about one insert a second); 1,000-row inserts cost ClickHouse
   * four times the CPU per row.
   */
  BATCH_MAX_ROWS: int(1, 1_000_000).default(50_000),
  /** ... or when the oldest buffered row has waited this long. */
  BATCH_MAX_MS: int(10, 60_000).default(1000),
  /**
   * Key of the HMAC that replaces e-mails and phones (identity/hash.ts). Keep it
   * secret and stable. Unset: a random key is made once and kept in ClickHouse
   * (identity/key.ts). The key once printed in the examples is public.
   */
  IDENTITY_KEY: z
    .string()
    .min(16, 'at least 16 characters')
    .refine((k) => !PUBLIC_IDENTITY_KEYS.includes(k), 'a published example key; set a secret of your own, or leave it unset to have one generated')
    .optional(),
  /** Country whose numbering plan applies to phone numbers written without a country code. */
  PHONE_DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 two-letter code such as RU').default('RU'),
  /** More query parameters whose values stored URLs never keep (privacy/url.ts): comma-separated names. */
  URL_REDACT_PARAMS: z
    .string()
    .regex(/^\s*[A-Za-z0-9_.[\]-]{1,64}\s*(?:,\s*[A-Za-z0-9_.[\]-]{1,64}\s*)*,?\s*$/, 'comma-separated parameter names (letters, digits, _ . - [ ])')
    .default(''),
  /** JSON file with the CRM sources, funnel and mappings (README, "Connecting a CRM"). */
  CRM_CONFIG: z.string().optional(),
  /** Bearer token of the CRM admin API (GET/PUT /crm/config); the API is off without it. */
  CRM_ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * How often the collector looks for a newer CRM configuration: one saved by
   * another collector of the installation (PUT /crm/config, the setup page), or
   * the CRM_CONFIG file changed on disk; a newer one is put in force without a
   * restart. A collector's own PUT is in force at once.
   */
  CRM_CONFIG_REFRESH_SECONDS: int(1, 3600).default(300),
  /** Secret in the URL of POST /inbound-email/<secret>; the endpoint is off without it. */
  INBOUND_EMAIL_SECRET: z.string().regex(/^[A-Za-z0-9_-]{16,}$/, 'at least 16 letters, digits, _ or -').optional(),
  /** Bearer token of the reports API, page and costs upload; unset disables them. */
  REPORTS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * Token of the SQL endpoint (/sql: ClickHouse's HTTP interface, read-only and
   * guarded, sql/route.ts); unset, the endpoint is off.
   */
  SQL_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** The longest a query at /sql may run (max_execution_time); analysts may ask for less. */
  SQL_MAX_SECONDS: int(1, 3600).default(60),
  /**
   * The most a query at /sql may return, in MB of the engine's result blocks
   * (max_result_bytes). The embedded engine holds a whole result in the
   * collector's memory, its text form and copies several times this size.
   */
  SQL_MAX_RESULT_MB: int(1, 4096).default(64),
  /** Queries at /sql running at once; past it a query is refused (503), so analysts cannot starve the collector. */
  SQL_MAX_CONCURRENT: int(1, 64).default(4),
  /** The currency of every report's money (ISO 4217); other currencies are converted by the rates the user supplies. */
  REPORT_CURRENCY: z.string().regex(CURRENCY, 'an ISO 4217 code such as RUB').default('RUB'),
  /** Fixed rates into REPORT_CURRENCY, used where no daily rate was uploaded: `USD=92.5,EUR=100.1` or JSON `{"USD": 92.5}`. */
  REPORT_RATES: z.string().default(''),
  /** Attribution look-back: visits this many days before a conversion count as its touches. */
  ATTRIBUTION_WINDOW_DAYS: int(1, 365).default(90),
  /** Shortest time between identity resolutions: a stale one younger than this is not refreshed yet. */
  ATTRIBUTION_MAX_AGE_SECONDS: int(0, 86_400).default(0),
  /**
   * Hours between full identity resolutions: runs in between resolve only what changed; a full one
   * drops what they superseded and reads everything again. `0`: every resolution is full.
   */
  ATTRIBUTION_FULL_HOURS: int(0, 720).default(24),
  /** Hit pipeline (collector/src/pipeline): sites, privacy, throttles, durability. See README. */
  /** Allowed sites and their browser origins: JSON, or a path to a JSON file (README, "Sites"); unset, every site and any origin. */
  SITES: z.string().optional(),
  /** A visitor's `visit` hits count once per this many seconds; `0` disables. */
  VISIT_THROTTLE_SECONDS: int(0, 86_400).default(VISIT_WINDOW_SECONDS),
  /** Hits per IP and site per minute; the excess is dropped (`rate_limited`); `0` disables. */
  RATE_LIMIT_PER_MINUTE: int(0, 100_000_000).default(600),
  /** `hash`: HMAC of the IP under a daily salt; `anonymize`: keep the /24 (IPv4) or /48 (IPv6). */
  IP_MODE: z.enum(['hash', 'anonymize']).default('hash'),
  /** `off` accepts bots and automated browsers (the test suite's clients are automated). */
  BOT_FILTER: z.enum(['on', 'off']).default('on'),
  /** Oldest client time a hit may carry; raise it to load past visits (backfills, test scenarios). */
  HIT_MAX_AGE_DAYS: int(1, 3650).default(7),
  /** Comma-separated addresses, CIDRs or `loopback`/`linklocal`/`uniquelocal` whose X-Forwarded-For is believed. */
  TRUSTED_PROXIES: z.string().default(''),
  /** Command timeout of the hit path's Redis calls; past it the limits fail open. */
  REDIS_TIMEOUT_MS: int(10, 10_000).default(250),
  /** ... or when the batch holds this many bytes (this bound does not wait for the insert in flight). */
  BATCH_MAX_BYTES: int(1024, 1024 ** 3).default(8 * 1024 * 1024),
  /** An insert slower than this counts as failed and its batch goes to the spill. */
  INSERT_TIMEOUT_MS: int(100, 300_000).default(10_000),
  /** The journal and the disk spool (README, "Durability"): one directory per collector. Unset: `.spool/<database>` in the package root. */
  SPOOL_DIR: z.string().min(1).optional(),
  /**
   * Where a batch ClickHouse could not take goes: `auto` into Redis only when it
   * keeps an append-only file (else a restart would lose it), `always` into Redis
   * (a persistent Redis that refuses CONFIG GET), `never`: the spool directory.
   */
  SPILL_REDIS: z.enum(['auto', 'always', 'never']).default('auto'),
  /** `1`: each group commit waits for fdatasync (survives power loss, costs latency). */
  JOURNAL_FSYNC: z.enum(['0', '1']).default('0'),
  /** pino log level; logs are JSON lines on stdout. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Slow clients (server.ts): the time a client has to send its headers, and its
   * whole request, before it is cut; how long an idle keep-alive connection is
   * kept (above the 60 s of common load balancers, so they never reuse one the
   * collector is closing); how many connections are open at once.
   */
  HTTP_HEADERS_TIMEOUT_SECONDS: int(1, 600).default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: int(1, 3600).default(30),
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: int(1, 3600).default(65),
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(10_000),
  /**
   * The outbound side (outbound/: GA4, Metrika, the site-visit trigger, stage
   * actions). `off` on a collector: it plans and sends nothing, though the outbox
   * stays readable. With several collectors on one database, keep it `on` in
   * exactly one, or each would send what the others send.
   */
  OUTBOUND: z.enum(['on', 'off']).default('on'),
  /**
   * GA4 Measurement Protocol (outbound/ga4): won deals are sent to GA4 as purchases,
   * later changes as adjustments and refunds (README, "Sending outcomes back", GA4).
   * Off unless both are set: the stream's measurement id, and an API secret made
   * for it (Admin → Data streams → the stream → Measurement Protocol API secrets).
   */
  GA4_MEASUREMENT_ID: z.string().regex(/^G-[A-Z0-9]{4,20}$/, 'a GA4 measurement id such as G-ABC123XYZ').optional(),
  GA4_API_SECRET: z.string().regex(/^[\x21-\x7e]{8,200}$/, '8 to 200 printable characters, no spaces').optional(),
  /** Where the Measurement Protocol is served (/mp/collect below it): tests point it at a stand-in. */
  GA4_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('https://www.google-analytics.com'),
  /**
   * The site-visit trigger (outbound/trigger; the rules are the CRM configuration's
   * visitTriggers): how often new page visits are looked at. `0` turns the trigger
   * off on this collector (with several collectors on one database, run it in one).
   */
  TRIGGER_SCAN_SECONDS: int(0, 3600).default(15),
  /**
   * Yandex Metrika (outbound/metrika): won deals as offline conversions, every
   * change of a deal as its CDP order (README, "Sending outcomes back", Yandex
   * Metrika"). The counter and an OAuth token allowed to upload its data turn the
   * uploads on (set both or neither); METRIKA_GOAL is the identifier of the
   * offline-conversion goal (Target), also the default of the CSV download,
   * which needs neither counter nor token.
   */
  METRIKA_COUNTER_ID: z.string().regex(/^\d{1,20}$/, 'the counter number: digits only').optional(),
  METRIKA_TOKEN: z.string().regex(/^[\x21-\x7e]{8,400}$/, 'an OAuth token: 8 to 400 printable characters, no spaces').optional(),
  METRIKA_GOAL: z.string().regex(GOAL_RULE, GOAL_RULE_TEXT).optional(),
  /** Where Metrika's API is served (/management/v1 and /cdp/api/v1 below it): tests point it at a stand-in. */
  METRIKA_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('https://api-metrika.yandex.net'),
  /** CDP orders (every change of a deal as its order's state): on with the counter and token, unless off. */
  METRIKA_CDP: z.enum(['on', 'off']).default('on'),
  /** The counter's time zone, in which Metrika reads a CDP order's times (the counter's settings show it). */
  METRIKA_TIMEZONE: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Moscow').default('Europe/Moscow'),
  /** Bearer token of GET /metrics; unset, /metrics is open (bind it to a private address then). */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** New visitor ids (GET /vid) per address per minute; `0` disables the limit. */
  VID_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(60),
});

/** The variables as declared above, for the generated reference (env-reference.ts, docs/environment.md). */
export const envSchema = schema;

export type Config = {
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** `url`: a server's, or 'embedded' (then `data` is its directory). */
  /** `cluster`: CLICKHOUSE_CLUSTER, '' (or absent) for one server. */
  clickhouse: { url: string; user: string; password: string; database: string; data: string; cluster?: string };
  redis: { url: string; prefix: string };
  batch: { maxRows: number; maxMs: number };
  /** `key` is '' until start-up reads the installation's generated key (identity/key.ts) when IDENTITY_KEY is unset. */
  identity: { key: string; defaultCountry: string };
  crm: { configPath: string | undefined; adminToken: string | undefined; inboundEmailSecret: string | undefined; refreshSeconds: number };
  reports: { token: string | undefined; windowDays: number; maxAgeSeconds: number; fullEveryHours: number };
  /** The SQL endpoint (SQL_*): off without a token; maxResultBytes in bytes. */
  sql: { token: string | undefined; maxSeconds: number; maxResultBytes: number; maxConcurrent: number };
  /** The report currency and the fixed rates into it (REPORT_CURRENCY, REPORT_RATES). */
  money: ReportMoney;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  pipeline: PipelineConfig;
  http: HttpConfig;
  /** The GA4 Measurement Protocol sender (GA4_*); null when off. `url` has no trailing slash. */
  ga4: Ga4Config | null;
  /** Whether this collector plans and sends outbound messages (OUTBOUND). */
  outbound: boolean;
  /** The site-visit trigger: seconds between its looks at new visits (TRIGGER_SCAN_SECONDS); 0 when off on this collector. */
  trigger: { scanSeconds: number };
  /** Yandex Metrika (METRIKA_*); null when none of the counter, the token and the goal is set. */
  metrika: MetrikaConfig | null;
};

export type Ga4Config = { measurementId: string; apiSecret: string; url: string };

export type MetrikaConfig = {
  /** The counter and its token: the uploads are on. Null with the goal alone (the CSV download). `url` has no trailing slash. */
  api: { counterId: string; token: string; url: string } | null;
  /** The offline-conversion goal (Target): the uploads of won deals are on with it and `api`. */
  goal: string | null;
  /** CDP orders, with `api`. */
  cdp: boolean;
  /** The counter's time zone (IANA). */
  timeZone: string;
};

/** The HTTP server's bounds on slow clients (seconds) and who may read /metrics. */
export type HttpConfig = {
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  maxConnections: number;
  metricsToken: string | undefined;
  vidRatePerMinute: number;
};

export type PipelineConfig = {
  /** Raw SITES value: JSON, or a path to a JSON file (parsed by sites/registry.ts). */
  sites: string | undefined;
  visitThrottleSeconds: number;
  rateLimitPerMinute: number;
  ipMode: 'hash' | 'anonymize';
  botFilter: boolean;
  hitMaxAgeDays: number;
  trustedProxies: string[];
  redisTimeoutMs: number;
  batchMaxBytes: number;
  insertTimeoutMs: number;
  /** Journal and disk spool; undefined = .spool/<database> under the package root. */
  spoolDir: string | undefined;
  spillRedis: SpillRedis;
  journalFsync: boolean;
  /** Extra query parameter names redacted from stored URLs (URL_REDACT_PARAMS). */
  urlRedactParams: string[];
};

export type SpillRedis = 'auto' | 'always' | 'never';

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as in most twelve-factor tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError('invalid configuration:\n  HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS');
  }
  if ((e.GA4_MEASUREMENT_ID === undefined) !== (e.GA4_API_SECRET === undefined)) {
    throw new ConfigError('invalid configuration:\n  GA4_MEASUREMENT_ID, GA4_API_SECRET: set both to send outcomes to GA4, or neither');
  }
  if (e.CLICKHOUSE_CLUSTER && e.CLICKHOUSE_URL === 'embedded') {
    throw new ConfigError('invalid configuration:\n  CLICKHOUSE_CLUSTER: cluster mode needs ClickHouse servers (CLICKHOUSE_URL=http://…), not the embedded engine');
  }
  if ((e.METRIKA_COUNTER_ID === undefined) !== (e.METRIKA_TOKEN === undefined)) {
    throw new ConfigError('invalid configuration:\n  METRIKA_COUNTER_ID, METRIKA_TOKEN: set both to upload to Yandex Metrika, or neither');
  }
  const fixedRates = parseFixedRates(e.REPORT_RATES, e.REPORT_CURRENCY);
  if ('error' in fixedRates) throw new ConfigError(`invalid configuration:\n  REPORT_RATES: ${fixedRates.error}`);
  return {
    host: e.THROUGHLINE_HOST,
    port: e.THROUGHLINE_PORT,
    publicUrl: e.THROUGHLINE_PUBLIC_URL,
    clickhouse: {
      url: e.CLICKHOUSE_URL,
      user: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE,
      data: resolve(e.CLICKHOUSE_DATA),
      // Absent on one server (the default), so a single-server configuration reads as it always has.
      ...(e.CLICKHOUSE_CLUSTER ? { cluster: e.CLICKHOUSE_CLUSTER } : {}),
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    batch: { maxRows: e.BATCH_MAX_ROWS, maxMs: e.BATCH_MAX_MS },
    identity: { key: e.IDENTITY_KEY ?? '', defaultCountry: e.PHONE_DEFAULT_COUNTRY },
    crm: { configPath: e.CRM_CONFIG, adminToken: e.CRM_ADMIN_TOKEN, inboundEmailSecret: e.INBOUND_EMAIL_SECRET, refreshSeconds: e.CRM_CONFIG_REFRESH_SECONDS },
    reports: { token: e.REPORTS_TOKEN, windowDays: e.ATTRIBUTION_WINDOW_DAYS, maxAgeSeconds: e.ATTRIBUTION_MAX_AGE_SECONDS, fullEveryHours: e.ATTRIBUTION_FULL_HOURS },
    sql: { token: e.SQL_TOKEN, maxSeconds: e.SQL_MAX_SECONDS, maxResultBytes: e.SQL_MAX_RESULT_MB * 1024 * 1024, maxConcurrent: e.SQL_MAX_CONCURRENT },
    money: { currency: e.REPORT_CURRENCY, fixedRates: fixedRates.rates },
    logLevel: e.LOG_LEVEL,
    outbound: e.OUTBOUND === 'on',
    trigger: { scanSeconds: e.TRIGGER_SCAN_SECONDS },
    ga4:
      e.GA4_MEASUREMENT_ID && e.GA4_API_SECRET
        ? { measurementId: e.GA4_MEASUREMENT_ID, apiSecret: e.GA4_API_SECRET, url: e.GA4_URL.replace(/\/+$/, '') }
        : null,
    metrika:
      e.METRIKA_COUNTER_ID || e.METRIKA_TOKEN || e.METRIKA_GOAL
        ? {
            api: e.METRIKA_COUNTER_ID && e.METRIKA_TOKEN ? { counterId: e.METRIKA_COUNTER_ID, token: e.METRIKA_TOKEN, url: e.METRIKA_URL.replace(/\/+$/, '') } : null,
            goal: e.METRIKA_GOAL ?? null,
            cdp: e.METRIKA_CDP === 'on',
            timeZone: e.METRIKA_TIMEZONE,
          }
        : null,
    http: {
      headersTimeoutSeconds: e.HTTP_HEADERS_TIMEOUT_SECONDS,
      requestTimeoutSeconds: e.HTTP_REQUEST_TIMEOUT_SECONDS,
      keepAliveTimeoutSeconds: e.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      metricsToken: e.METRICS_TOKEN,
      vidRatePerMinute: e.VID_RATE_LIMIT_PER_MINUTE,
    },
    pipeline: {
      sites: e.SITES,
      visitThrottleSeconds: e.VISIT_THROTTLE_SECONDS,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      ipMode: e.IP_MODE,
      botFilter: e.BOT_FILTER === 'on',
      hitMaxAgeDays: e.HIT_MAX_AGE_DAYS,
      trustedProxies: e.TRUSTED_PROXIES.split(',').map((s) => s.trim()).filter(Boolean),
      redisTimeoutMs: e.REDIS_TIMEOUT_MS,
      batchMaxBytes: e.BATCH_MAX_BYTES,
      insertTimeoutMs: e.INSERT_TIMEOUT_MS,
      spoolDir: e.SPOOL_DIR,
      spillRedis: e.SPILL_REDIS,
      journalFsync: e.JOURNAL_FSYNC === '1',
      urlRedactParams: e.URL_REDACT_PARAMS.split(',').map((n) => n.trim()).filter(Boolean),
    },
  };
}
