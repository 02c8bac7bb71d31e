// The collector's whole configuration, read once from environment variables and
// validated before anything starts: a bad or missing value stops the process with
// a message that names the variable.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { VISIT_WINDOW_SECONDS } from '../../contract/campaign.js';
import { CURRENCY, parseFixedRates, type ReportMoney } from './currency/rate.js';
import { ROOT } from './paths.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** IDENTITY_KEY values anyone can read (the old default): hashes under them protect nothing. */
const PUBLIC_IDENTITY_KEYS = ['throughline-development-key-change-me'];

const schema = z.object({
  THROUGHLINE_HOST: z.string().min(1).default('127.0.0.1'),
  THROUGHLINE_PORT: int(0, 65535).default(8080),
  /** Public base URL of the collector, as the tracker on a site sees it. */
  THROUGHLINE_PUBLIC_URL: z.url().optional(),
  /** A ClickHouse server's HTTP address, or `embedded`: the engine inside the collector (clickhouse/embedded.ts). */
  CLICKHOUSE_URL: z.union([z.literal('embedded'), z.url()], { error: "a ClickHouse server's URL (http://host:8123) or embedded" }).default('embedded'),
  /** The embedded engine's data directory (one collector process per directory). */
  CLICKHOUSE_DATA: z.string().min(1).default(join(ROOT, 'data', 'clickhouse')),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only').default('throughline'),
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
  /** Hit pipeline (collector/src/pipeline): sites, privacy, throttles, durability. See README. */
  SITES: z.string().optional(),
  VISIT_THROTTLE_SECONDS: int(0, 86_400).default(VISIT_WINDOW_SECONDS),
  RATE_LIMIT_PER_MINUTE: int(0, 100_000_000).default(600),
  IP_MODE: z.enum(['hash', 'anonymize']).default('hash'),
  BOT_FILTER: z.enum(['on', 'off']).default('on'),
  /** Oldest client time a hit may carry; raise it to load past visits (backfills, test scenarios). */
  HIT_MAX_AGE_DAYS: int(1, 3650).default(7),
  TRUSTED_PROXIES: z.string().default(''),
  REDIS_TIMEOUT_MS: int(10, 10_000).default(250),
  BATCH_MAX_BYTES: int(1024, 1024 ** 3).default(8 * 1024 * 1024),
  INSERT_TIMEOUT_MS: int(100, 300_000).default(10_000),
  SPOOL_DIR: z.string().min(1).optional(),
  /**
   * Where a batch ClickHouse could not take goes: `auto` into Redis only when it
   * keeps an append-only file (else a restart would lose it), `always` into Redis
   * (a persistent Redis that refuses CONFIG GET), `never`: the spool directory.
   */
  SPILL_REDIS: z.enum(['auto', 'always', 'never']).default('auto'),
  JOURNAL_FSYNC: z.enum(['0', '1']).default('0'),
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
   * GA4 Measurement Protocol (outbound/ga4): won deals are sent to GA4 as purchases,
   * later changes as adjustments and refunds (README, "Sending outcomes back: GA4").
   * Off unless both are set: the stream's measurement id, and an API secret made
   * for it (Admin → Data streams → the stream → Measurement Protocol API secrets).
   */
  GA4_MEASUREMENT_ID: z.string().regex(/^G-[A-Z0-9]{4,20}$/, 'a GA4 measurement id such as G-ABC123XYZ').optional(),
  GA4_API_SECRET: z.string().regex(/^[\x21-\x7e]{8,200}$/, '8 to 200 printable characters, no spaces').optional(),
  /** Where the Measurement Protocol is served (/mp/collect below it): tests point it at a stand-in. */
  GA4_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('https://www.google-analytics.com'),
  /** Bearer token of GET /metrics; unset, /metrics is open (bind it to a private address then). */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** New visitor ids (GET /vid) per address per minute; `0` disables the limit. */
  VID_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(60),
});

export type Config = {
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** `url`: a server's, or 'embedded' (then `data` is its directory). */
  clickhouse: { url: string; user: string; password: string; database: string; data: string };
  redis: { url: string; prefix: string };
  batch: { maxRows: number; maxMs: number };
  /** `key` is '' until start-up reads the installation's generated key (identity/key.ts) when IDENTITY_KEY is unset. */
  identity: { key: string; defaultCountry: string };
  crm: { configPath: string | undefined; adminToken: string | undefined; inboundEmailSecret: string | undefined };
  reports: { token: string | undefined; windowDays: number; maxAgeSeconds: number };
  /** The SQL endpoint (SQL_*): off without a token; maxResultBytes in bytes. */
  sql: { token: string | undefined; maxSeconds: number; maxResultBytes: number; maxConcurrent: number };
  /** The report currency and the fixed rates into it (REPORT_CURRENCY, REPORT_RATES). */
  money: ReportMoney;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  pipeline: PipelineConfig;
  http: HttpConfig;
  /** The GA4 Measurement Protocol sender (GA4_*); null when off. `url` has no trailing slash. */
  ga4: Ga4Config | null;
};

export type Ga4Config = { measurementId: string; apiSecret: string; url: string };

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
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    batch: { maxRows: e.BATCH_MAX_ROWS, maxMs: e.BATCH_MAX_MS },
    identity: { key: e.IDENTITY_KEY ?? '', defaultCountry: e.PHONE_DEFAULT_COUNTRY },
    crm: { configPath: e.CRM_CONFIG, adminToken: e.CRM_ADMIN_TOKEN, inboundEmailSecret: e.INBOUND_EMAIL_SECRET },
    reports: { token: e.REPORTS_TOKEN, windowDays: e.ATTRIBUTION_WINDOW_DAYS, maxAgeSeconds: e.ATTRIBUTION_MAX_AGE_SECONDS },
    sql: { token: e.SQL_TOKEN, maxSeconds: e.SQL_MAX_SECONDS, maxResultBytes: e.SQL_MAX_RESULT_MB * 1024 * 1024, maxConcurrent: e.SQL_MAX_CONCURRENT },
    money: { currency: e.REPORT_CURRENCY, fixedRates: fixedRates.rates },
    logLevel: e.LOG_LEVEL,
    ga4:
      e.GA4_MEASUREMENT_ID && e.GA4_API_SECRET
        ? { measurementId: e.GA4_MEASUREMENT_ID, apiSecret: e.GA4_API_SECRET, url: e.GA4_URL.replace(/\/+$/, '') }
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
