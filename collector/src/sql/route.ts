// /sql: the basics of ClickHouse's HTTP interface, read-only and guarded, so an
// analyst reaches the collector's data with curl, @clickhouse/client
// (`createClient({ url: 'http://host:8080', pathname: '/sql', password: SQL_TOKEN })`:
// a path in its `url` would be read as the database) or an HTTP-based BI tool. With the embedded engine nothing else can open the data
// directory; on a server install the endpoint may stay off.
//
// A request goes: the URL's credentials refused (tokens in URLs end up in logs),
// the token checked in constant time (Basic auth's password with any user name,
// X-ClickHouse-Key, or Bearer), the URL's settings checked (settings.ts) and a
// place among SQL_MAX_CONCURRENT taken, all before a byte of the body is read;
// then the query (`query=`, a newline, the body) gets its parameters
// (params.ts), passes the guard (guard.ts), and runs on a client of its own,
// closed after it: on the embedded engine a setting stays on its session, and a
// shared one would carry one analyst's settings into the next query. It runs
// with readonly = 2 and the endpoint's limits; the engine's answer is streamed
// back as it comes.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { createBrotliCompress, createDeflate, createGzip, constants as zlib } from 'node:zlib';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { connect, queryRows, type ClickHouseSettings } from '../clickhouse/client.js';
import { bearer, bodyText, gatedBody, sameSecret } from '../http/auth.js';
import type { SqlOutcome } from '../metrics/registry.js';
import type { Services } from '../services.js';
import { answerError, CODE, engineError, transportError, type SqlError } from './errors.js';
import { contentType, DEFAULT_FORMAT } from './formats.js';
import { guard, guardPolicy, REFUSAL_DETAIL, type GuardPolicy, type Refusal } from './guard.js';
import { substituteParams } from './params.js';
import { engineSettings, planRequest, urlCredentials, type RequestPlan } from './settings.js';

/** The largest request body (the query): ClickHouse's own max_query_size is 256 KiB. */
const BODY_LIMIT = '1mb';

/** The sentence after the reason of a refusal of the request itself (the guard's are in guard.ts). */
const REQUEST_DETAIL: Record<string, string> = {
  credentials_in_url: 'send the token as the password of Basic auth, in X-ClickHouse-Key or as a Bearer token, never in the URL, whose query string ends up in logs',
  sessions_not_supported: 'every query runs on a session of its own',
  ambiguous_credentials: 'send the token one way: Authorization or X-ClickHouse-Key',
  required_password: 'the SQL endpoint takes its token as the password of Basic auth (any user name), in X-ClickHouse-Key, or as a Bearer token',
  authentication_failed: 'that is not the SQL endpoint token',
  repeated_parameter: 'each URL parameter once',
  setting_not_allowed: 'the SQL endpoint takes output formatting settings (output_format_*, date_time_output_format, …), limits it may lower and the HTTP ones; give no others',
  setting_above_limit: 'an analyst may lower the endpoint limits, not raise them',
  bad_setting_value: 'the value is not one the setting takes here (plain text, no backslash or quote)',
  readonly_required: 'readonly may be 1 or 2',
  compress_not_supported: 'the answer is compressed by HTTP (enable_http_compression=1 and Accept-Encoding)',
  bad_database: 'a database name is letters, digits and _',
  database_not_allowed: 'the system database is read through its tables, named in full',
  bad_format: 'a format name is letters, digits and _',
  bad_query_id: 'a query id is printable ASCII, at most 256 characters',
  bad_query_parameter: 'the value does not fit the parameter type, or the name is not letters, digits and _',
  query_parameter_not_set: 'give its value as param_<name> in the URL',
  multipart_not_supported: 'send the query as the body or in query=, and parameters as param_<name> in the URL',
  query_too_large: 'a query may be 1 MB at most',
  unsupported_body: 'the body encoding or charset is not one the endpoint reads',
  malformed_body: 'the body could not be read',
  too_many_queries: 'try again when one has ended',
  guard_unavailable: 'the engine did not say which table functions it has, so no query can be checked yet',
};

const refusalText = (r: Refusal): string => {
  const head = r.subject === undefined ? r.reason : `${r.reason}: ${r.subject}`;
  const detail = REFUSAL_DETAIL[r.reason] ?? REQUEST_DETAIL[r.reason];
  return detail ? `${head}; ${detail}` : head;
};

/** The query string exactly as sent (req.query folds repeats). */
const searchOf = (req: Request) => new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');

/**
 * The token a request presents: the password of Basic auth, X-ClickHouse-Key,
 * or a Bearer token; '' for a malformed one, null for none, or 'ambiguous'.
 */
function presentedToken(req: Request): string | null | 'ambiguous' {
  const authorization = req.headers.authorization;
  const key = req.headers['x-clickhouse-key'];
  if (authorization !== undefined && key !== undefined) return 'ambiguous';
  if (typeof key === 'string') return key;
  if (!authorization) return null;
  if (/^basic /i.test(authorization)) {
    const pair = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return colon === -1 ? '' : pair.slice(colon + 1);
  }
  return bearer(req) ?? '';
}

/** How many queries run at once; a place is held until the engine is done with the query, not just until the client leaves. */
function concurrency(max: number) {
  let running = 0;
  return {
    take(): (() => void) | null {
      if (running >= max) return null;
      running++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        running--;
      };
    },
  };
}

/** The engine's table functions, read once (again after a failure), for the guard. */
function policySource(svc: Services): () => Promise<GuardPolicy> {
  let pending: Promise<GuardPolicy> | undefined;
  const load = async () => {
    const client = connect(svc.config.clickhouse, null);
    try {
      const rows = await queryRows<{ name: string }>(client, 'SELECT name FROM system.table_functions');
      return guardPolicy(rows.map((r) => r.name));
    } finally {
      await client.close();
    }
  };
  return () =>
    (pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    }));
}

/** The encoding of a compressed answer: the first of gzip, deflate and br the client accepts. */
function answerEncoding(accept: string | undefined): 'gzip' | 'deflate' | 'br' | undefined {
  const offered = (accept ?? '')
    .split(',')
    .map((part) => part.trim().split(';'))
    .filter(([, q]) => !q || !/^\s*q=0(?:\.0*)?\s*$/.test(q))
    .map(([name]) => name!.toLowerCase());
  return (['gzip', 'deflate', 'br'] as const).find((e) => offered.includes(e));
}

function compressor(encoding: 'gzip' | 'deflate' | 'br', level: number): Transform {
  if (encoding === 'br') return createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: level } });
  return encoding === 'gzip' ? createGzip({ level }) : createDeflate({ level });
}

type SqlState = { plan: RequestPlan; release: () => void; engaged: boolean };

export function sqlRouter(svc: Services): Router {
  const token = svc.config.sql.token;
  if (!token) throw new Error('the SQL endpoint needs SQL_TOKEN');
  const limits = { maxSeconds: svc.config.sql.maxSeconds, maxResultBytes: svc.config.sql.maxResultBytes };
  const slots = concurrency(svc.config.sql.maxConcurrent);
  const policy = policySource(svc);
  const log = svc.log.child({ endpoint: 'sql' });
  const count = (outcome: SqlOutcome) => svc.ingest.metrics.sqlQueries.inc({ outcome });
  // Read at start, so the first query does not wait for it; a failure is retried by the next query.
  policy().catch((err: unknown) => log.warn({ err: String(err) }, 'the engine did not list its table functions; retried at the first query'));

  const refuse = (res: Response, r: Refusal, outcome: SqlOutcome = 'refused', headers: Record<string, string> = {}) => {
    count(outcome);
    // Requests without the token are anyone's (scanners among them): logged only when debugging.
    log[outcome === 'unauthorized' ? 'debug' : 'info']({ outcome, reason: r.reason, subject: r.subject }, 'sql request refused');
    answerError(res, { code: r.code, text: refusalText(r) }, headers);
  };

  // Before the body: the URL's credentials, the token, the URL, a place.
  const gate = (req: Request, res: Response): boolean => {
    const no = (r: Refusal, outcome?: SqlOutcome, headers?: Record<string, string>) => {
      refuse(res, r, outcome, headers);
      return false;
    };
    const search = searchOf(req);
    const inUrl = urlCredentials(search);
    if (inUrl) return no(inUrl.refusal);
    const given = presentedToken(req);
    if (given === 'ambiguous') return no({ reason: 'ambiguous_credentials', code: CODE.BAD_ARGUMENTS }, 'unauthorized');
    if (given === null) return no({ reason: 'required_password', code: CODE.REQUIRED_PASSWORD }, 'unauthorized', { 'WWW-Authenticate': 'Basic realm="throughline-sql", charset="UTF-8"' });
    if (!sameSecret(given, token)) return no({ reason: 'authentication_failed', code: CODE.AUTHENTICATION_FAILED }, 'unauthorized');
    if (/^multipart\//i.test(req.headers['content-type'] ?? '')) return no({ reason: 'multipart_not_supported', code: CODE.UNSUPPORTED_MEDIA_TYPE });
    const plan = planRequest(search, req.headers, limits);
    if ('refusal' in plan) return no(plan.refusal);
    const release = slots.take();
    if (!release) return no({ reason: 'too_many_queries', subject: `${svc.config.sql.maxConcurrent} running`, code: CODE.TOO_MANY_SIMULTANEOUS_QUERIES }, 'busy');
    const state: SqlState = { plan, release, engaged: false };
    res.locals.sql = state;
    // A request that never reaches the query (its body failed) gives its place back when it ends.
    res.once('close', () => {
      if (!state.engaged) release();
    });
    return true;
  };

  const run = async (req: Request, res: Response): Promise<void> => {
    const state = res.locals.sql as SqlState;
    state.engaged = true;
    try {
      await query(req, res, state.plan);
    } catch (err) {
      count('failed');
      log.error({ err: String(err) }, 'sql request failed');
      answerError(res, { code: CODE.UNKNOWN_EXCEPTION, text: 'internal_error' });
    } finally {
      state.release();
    }
  };

  const query = async (req: Request, res: Response, plan: RequestPlan): Promise<void> => {
    const started = Date.now();
    const body = bodyText(req);
    const text = plan.query === undefined ? body : body ? `${plan.query}\n${body}` : plan.query;
    const substituted = substituteParams(text, plan.params);
    if ('refusal' in substituted) return refuse(res, substituted.refusal);
    let rules: GuardPolicy;
    try {
      rules = await policy();
    } catch (err) {
      count('failed');
      log.warn({ err: String(err) }, 'the engine did not list its table functions');
      return answerError(res, { code: CODE.NETWORK_ERROR, text: refusalText({ reason: 'guard_unavailable', code: CODE.NETWORK_ERROR }) });
    }
    const admitted = guard(substituted.query, rules);
    if ('refusal' in admitted) return refuse(res, admitted.refusal);

    const format = admitted.format ?? plan.defaultFormat ?? DEFAULT_FORMAT;
    const queryId = plan.queryId ?? randomUUID();
    const idHeader = { 'X-ClickHouse-Query-Id': queryId };
    const database = plan.database ?? svc.config.clickhouse.database;
    const fields = { queryId, database, format };
    // A server may be silent for the whole of a query it finishes before answering (wait_end_of_query).
    const client = connect(svc.config.clickhouse, database, {}, (svc.config.sql.maxSeconds + 5) * 1000);
    try {
      let result;
      try {
        // Not aborted when the client leaves: the embedded engine would go on with the query all the same, and its place is held until it ends.
        result = await client.exec({ query: admitted.query, query_id: queryId, clickhouse_settings: engineSettings(plan, format) as ClickHouseSettings });
      } catch (err) {
        const e: SqlError | null = engineError(err);
        count(e ? 'engine_error' : 'failed');
        if (e) log.info({ ...fields, outcome: 'engine_error', code: e.code, ms: Date.now() - started }, 'sql query failed in the engine');
        else log.warn({ ...fields, outcome: 'failed', err: String(err) }, 'sql query did not reach the engine');
        return answerError(res, e ?? transportError(err), idHeader);
      }
      if (res.destroyed) {
        result.stream.destroy();
        count('ok');
        return;
      }
      res.status(200);
      res.setHeader('Content-Type', contentType(format));
      res.setHeader('X-ClickHouse-Format', format);
      res.setHeader('X-ClickHouse-Query-Id', queryId);
      res.setHeader('Cache-Control', 'no-store');
      const encoding = plan.compress ? answerEncoding(req.headers['accept-encoding']) : undefined;
      if (encoding) {
        res.setHeader('Content-Encoding', encoding);
        res.vary('Accept-Encoding');
      }
      try {
        if (encoding) await pipeline(result.stream, compressor(encoding, plan.compressionLevel), res);
        else await pipeline(result.stream, res);
      } catch (err) {
        // The client left, or the engine's stream broke mid-answer: the answer is cut, as ClickHouse cuts it.
        log.info({ ...fields, err: String(err) }, 'sql answer cut short');
        res.destroy();
      }
      count('ok');
      log.info({ ...fields, outcome: 'ok', ms: Date.now() - started }, 'sql query answered');
    } finally {
      await client.close();
    }
  };

  const r = express.Router();
  // ClickHouse's health check, answered without the token as ClickHouse does. A client given the path `/sql/` asks for `/sql//ping`.
  r.get(['/ping', '//ping'], (_req, res) => {
    res.status(200).setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'text/html; charset=UTF-8');
    res.end('Ok.\n');
  });
  r.get('/', ...gatedBody(gate, BODY_LIMIT), run);
  r.post('/', ...gatedBody(gate, BODY_LIMIT), run);
  r.all('/', (_req, res) => answerError(res, { code: CODE.UNSUPPORTED_METHOD, text: 'unsupported_method: GET or POST' }));
  // The body parser's refusals, in ClickHouse's form.
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: unknown } | null)?.type;
    if (type === 'request.aborted') return void res.destroy();
    const reason =
      type === 'entity.too.large'
        ? { reason: 'query_too_large', code: CODE.QUERY_IS_TOO_LARGE }
        : type === 'encoding.unsupported' || type === 'charset.unsupported'
          ? { reason: 'unsupported_body', code: CODE.UNSUPPORTED_MEDIA_TYPE }
          : { reason: 'malformed_body', code: CODE.BAD_ARGUMENTS };
    refuse(res, reason);
  });
  return r;
}
