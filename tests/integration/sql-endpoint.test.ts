// The SQL endpoint (/sql) of the built collector against the real engine: what
// curl and @clickhouse/client get from it, and what it refuses. Written for any
// engine: values are compared, never an engine's formatting (64-bit integers
// come quoted from 18.16 and bare from 26.x, so they are read with Number()),
// and errors by their code and the endpoint's own reasons, never the engine's text.
import { randomBytes } from 'node:crypto';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { metricsText } from '../helpers/metrics-text.js';
import { dropRedisPrefix } from '../helpers/redis.js';

const TOKEN = `sql-token-${randomBytes(8).toString('hex')}`;
/** A client of the endpoint: @clickhouse/client reads a path in `url` as the database name, so the endpoint's path is its `pathname`. */
const sqlClient = (url: string, options: ClickHouseClientConfigOptions = {}) =>
  createClient({ url, pathname: '/sql', password: TOKEN, log: { level: ClickHouseLogLevel.OFF }, ...options });
const basic = (password = TOKEN, user = 'analyst') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

type Answer = { status: number; body: string; headers: Headers };
/** The ClickHouse error code of an answer (its header), and whether the body says the same. */
const codeOf = (a: Answer) => {
  const header = Number(a.headers.get('x-clickhouse-exception-code'));
  expect(a.body).toMatch(new RegExp(`^Code: ${header}\\. DB::Exception: `));
  return header;
};

describe('the SQL endpoint', () => {
  const prefix = `t_sql_${randomBytes(4).toString('hex')}:`;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    await db?.drop();
  });

  describe('without SQL_TOKEN', () => {
    let collector: RunningCollector;
    beforeAll(async () => {
      // Empty is unset; named all the same, since the suite's helpers may give a collector a token of their own.
      collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: prefix, SQL_TOKEN: '' });
    });
    afterAll(async () => {
      await collector?.stop();
    });

    it('is off: 404 for the ping and for a query, token or not', async () => {
      expect((await fetch(`${collector.url}/sql/ping`)).status).toBe(404);
      expect((await fetch(`${collector.url}/sql?query=SELECT+1`, { headers: { Authorization: basic() } })).status).toBe(404);
      expect((await fetch(`${collector.url}/sql`, { method: 'POST', body: 'SELECT 1', headers: { Authorization: basic() } })).status).toBe(404);
    });
  });

  describe('with SQL_TOKEN', () => {
    let collector: RunningCollector;
    let client: ClickHouseClient;
    /** A request as curl makes it: GET with query=, or POST with the query as the body. */
    const call = async (search: string, init: RequestInit & { auth?: string | null } = {}): Promise<Answer> => {
      const { auth = basic(), ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth !== null) headers.set('Authorization', auth);
      const res = await fetch(`${collector.url}/sql${search}`, { ...rest, headers });
      return { status: res.status, body: await res.text(), headers: res.headers };
    };
    const post = (body: string, search = '', init: RequestInit & { auth?: string | null } = {}) => call(search, { method: 'POST', body, ...init });
    const metrics = async () => metricsText(await (await fetch(`${collector.url}/metrics`)).text());

    beforeAll(async () => {
      collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: prefix, SQL_TOKEN: TOKEN });
      client = sqlClient(collector.url);
    });
    afterAll(async () => {
      await client?.close();
      await collector?.stop();
    });

    describe('as curl uses it', () => {
      it('answers the ping like ClickHouse, without the token, at /sql/ping and at /sql//ping (a url ending in /)', async () => {
        for (const path of ['/sql/ping', '/sql//ping']) {
          const res = await fetch(`${collector.url}${path}`);
          expect(res.status).toBe(200);
          expect(await res.text()).toBe('Ok.\n');
        }
        const head = await fetch(`${collector.url}/sql/ping`, { method: 'HEAD' });
        expect(head.status).toBe(200);
      });

      it('runs a GET query= in TabSeparated, the default format', async () => {
        const a = await call(`?query=${encodeURIComponent("SELECT 1 AS a, 'x\ty' AS b")}`);
        expect(a.status).toBe(200);
        expect(a.body).toBe('1\tx\\ty\n');
        expect(a.headers.get('content-type')).toBe('text/tab-separated-values; charset=UTF-8');
        expect(a.headers.get('x-clickhouse-format')).toBe('TabSeparated');
        expect(a.headers.get('cache-control')).toBe('no-store');
      });

      it('runs a POST body, and query= then a newline then the body when both are given', async () => {
        const a = await post('SELECT number FROM numbers(3)');
        expect(a.status).toBe(200);
        expect(a.body).toBe('0\n1\n2\n');
        // query= ends in a line comment: only the newline between the two keeps the body out of it.
        const both = await post('AS b, 2 AS c FORMAT JSONEachRow', `?query=${encodeURIComponent('SELECT 1 AS a, 3 -- the rest follows')}`);
        expect(both.status).toBe(200);
        expect(JSON.parse(both.body)).toEqual({ a: 1, b: 3, c: 2 });
      });

      it('takes FORMAT in the query and names it, with its Content-Type', async () => {
        const json = await post('SELECT toUInt8(7) AS n, \'é\' AS s FORMAT JSONEachRow');
        expect(json.headers.get('content-type')).toBe('application/json; charset=UTF-8');
        expect(json.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
        expect(JSON.parse(json.body)).toEqual({ n: 7, s: 'é' });
        const csv = await post('SELECT 1 AS a, 2 AS b FORMAT CSVWithNames;');
        expect(csv.headers.get('content-type')).toBe('text/csv; charset=UTF-8; header=present');
        expect(csv.body.split(/\r?\n/).filter(Boolean)).toEqual(['"a","b"', '1,2']);
        const plainCsv = await post('SELECT 1 FORMAT CSV');
        expect(plainCsv.headers.get('content-type')).toBe('text/csv; charset=UTF-8; header=absent');
      });

      it('takes default_format when the query has no FORMAT, and the query\'s FORMAT over it', async () => {
        const a = await post('SELECT 1 AS a', '?default_format=JSONEachRow');
        expect(a.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
        expect(JSON.parse(a.body)).toEqual({ a: 1 });
        const b = await post('SELECT 1 AS a FORMAT TSVWithNames', '?default_format=JSONEachRow');
        expect(b.headers.get('x-clickhouse-format')).toBe('TSVWithNames');
        expect(b.body).toBe('a\n1\n');
      });

      it('runs in the collector\'s database by default, and in database= when given', async () => {
        expect((await post('SELECT currentDatabase()')).body).toBe(`${db.name}\n`);
        expect((await post('SELECT currentDatabase()', '?database=default')).body).toBe('default\n');
        const hits = await post('SELECT count() FROM hits');
        expect(hits.status).toBe(200);
        expect(Number(hits.body)).toBe(0);
        const missing = await post('SELECT 1', '?database=no_such_database_here');
        expect(missing.status).toBe(404);
        expect(codeOf(missing)).toBe(81);
      });

      it('echoes query_id in X-ClickHouse-Query-Id, and makes one when none is given', async () => {
        const id = `q-${randomBytes(6).toString('hex')}`;
        expect((await post('SELECT 1', `?query_id=${id}`)).headers.get('x-clickhouse-query-id')).toBe(id);
        expect((await post('SELECT 1')).headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('puts param_<name> into {name:Type} placeholders', async () => {
        const a = await post(
          'SELECT {n:UInt32} + 1 AS n, {s:String} AS s, {arr:Array(String)} AS arr, {m:Nullable(String)} AS m FORMAT JSONEachRow',
          `?param_n=41&param_s=${encodeURIComponent("it's\\ta")}&param_arr=${encodeURIComponent("['x','y\\'z']")}&param_m=${encodeURIComponent('\\N')}`,
        );
        expect(a.status).toBe(200);
        const row = JSON.parse(a.body) as { n: number | string; s: string; arr: string[]; m: string | null };
        expect({ ...row, n: Number(row.n) }).toEqual({ n: 42, s: "it's\ta", arr: ['x', "y'z"], m: null });
        const missing = await post('SELECT {x:UInt8}');
        expect(codeOf(missing)).toBe(456);
        expect(missing.body).toContain('query_parameter_not_set: x');
      });

      it('answers with the settings given in the URL, and sessions do not carry them to the next query', async () => {
        const asked = await post("SELECT value FROM system.settings WHERE name = 'max_result_rows'", '?max_result_rows=7');
        expect(asked.body).toBe('7\n');
        const next = await post("SELECT value FROM system.settings WHERE name = 'max_result_rows'");
        expect(next.body).toBe('0\n');
      });

      it('runs every query with readonly = 2, or 1 when asked, and the endpoint\'s limits', async () => {
        const settings = "SELECT name, value FROM system.settings WHERE name IN ('readonly', 'max_execution_time', 'max_result_bytes', 'result_overflow_mode') ORDER BY name FORMAT JSONEachRow";
        const rows = (body: string) => Object.fromEntries(body.trim().split('\n').map((l) => Object.values(JSON.parse(l) as Record<string, string>)));
        expect(rows((await post(settings)).body)).toEqual({ max_execution_time: '60', max_result_bytes: String(64 * 1024 * 1024), readonly: '2', result_overflow_mode: 'throw' });
        expect(rows((await post(settings, '?readonly=1&max_execution_time=5&max_result_bytes=1000')).body)).toEqual({ max_execution_time: '5', max_result_bytes: '1000', readonly: '1', result_overflow_mode: 'throw' });
      });

      it('compresses the answer when asked (enable_http_compression=1 and Accept-Encoding)', async () => {
        const res = await fetch(`${collector.url}/sql?enable_http_compression=1`, {
          method: 'POST',
          body: 'SELECT count() FROM numbers(1000)',
          headers: { Authorization: basic(), 'Accept-Encoding': 'gzip' },
        });
        expect(res.headers.get('content-encoding')).toBe('gzip');
        // fetch has already inflated it; what came over the wire was gzip.
        expect(await res.text()).toBe('1000\n');
      });

      it('gives engine errors in ClickHouse\'s shape and status', async () => {
        const unknownTable = await post('SELECT * FROM no_such_table_here');
        expect(unknownTable.status).toBe(404);
        expect(codeOf(unknownTable)).toBe(60);
        const syntax = await post('SELECT 1 +');
        expect(syntax.status).toBe(400);
        expect(codeOf(syntax)).toBe(62);
        const timeout = await post('SELECT sum(number) FROM numbers(100000000000)', '?max_execution_time=1');
        expect(codeOf(timeout)).toBe(159);
      });
    });

    describe('as @clickhouse/client uses it', () => {
      it('pings', async () => {
        expect(await client.ping()).toEqual({ success: true });
      });

      it('reads JSONEachRow', async () => {
        const rows = await (await client.query({ query: 'SELECT number AS n, toString(number) AS s FROM numbers(3) ORDER BY n', format: 'JSONEachRow' })).json<{ n: number | string; s: string }>();
        expect(rows.map((r) => [Number(r.n), r.s])).toEqual([
          [0, '0'],
          [1, '1'],
          [2, '2'],
        ]);
      });

      it('passes query_params, quotes and arrays included', async () => {
        const rows = await (
          await client.query({
            query: 'SELECT {n:UInt32} * 2 AS n, {s:String} AS s, {a:Array(String)} AS a, {d:Date} AS d',
            query_params: { n: 21, s: "it's a\ttab\\", a: ['x', "y'z"], d: '2026-03-01' },
            format: 'JSONEachRow',
          })
        ).json<{ n: number | string; s: string; a: string[]; d: string }>();
        expect(rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([{ n: 42, s: "it's a\ttab\\", a: ['x', "y'z"], d: '2026-03-01' }]);
      });

      it('gets refusals and engine errors as ClickHouseErrors with their code and name', async () => {
        await expect(client.query({ query: "SELECT * FROM file('/etc/hostname', 'LineAsString')", format: 'JSONEachRow' })).rejects.toMatchObject({ code: '497', type: 'ACCESS_DENIED' });
        await expect(client.command({ query: 'CREATE TABLE x (a UInt8) ENGINE = Memory' })).rejects.toMatchObject({ code: '164', type: 'READONLY' });
        await expect(client.query({ query: 'SELECT * FROM no_such_table_here', format: 'JSONEachRow' })).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
      });

      it('decompresses a gzip answer', async () => {
        const gz = sqlClient(collector.url, { compression: { response: true } });
        try {
          const rows = await (await gz.query({ query: 'SELECT count() AS c FROM numbers(500)', format: 'JSONEachRow' })).json<{ c: number | string }>();
          expect(Number(rows[0]!.c)).toBe(500);
        } finally {
          await gz.close();
        }
      });

      it('is refused with a wrong token', async () => {
        const wrong = sqlClient(collector.url, { password: 'not-the-sql-token-at-all' });
        try {
          await expect(wrong.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toMatchObject({ code: '516', type: 'AUTHENTICATION_FAILED' });
        } finally {
          await wrong.close();
        }
      });
    });

    describe('who may ask', () => {
      it('takes the token as Basic auth\'s password with any user, in X-ClickHouse-Key, or as a Bearer token', async () => {
        expect((await post('SELECT 1', '', { auth: basic(TOKEN, 'anyone') })).body).toBe('1\n');
        expect((await post('SELECT 1', '', { auth: null, headers: { 'X-ClickHouse-User': 'me', 'X-ClickHouse-Key': TOKEN } })).body).toBe('1\n');
        expect((await post('SELECT 1', '', { auth: `Bearer ${TOKEN}` })).body).toBe('1\n');
      });

      it('asks for the token (401) when none is given, and refuses a wrong one (403)', async () => {
        const none = await post('SELECT 1', '', { auth: null });
        expect(none.status).toBe(401);
        expect(codeOf(none)).toBe(194);
        expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
        const wrong = await post('SELECT 1', '', { auth: basic('not-the-sql-token-at-all') });
        expect(wrong.status).toBe(403);
        expect(codeOf(wrong)).toBe(516);
        const wrongKey = await post('SELECT 1', '', { auth: null, headers: { 'X-ClickHouse-Key': `${TOKEN}x` } });
        expect(wrongKey.status).toBe(403);
      });

      it('refuses credentials and sessions in the URL, even with the right token in a header, and never logs the token', async () => {
        for (const [search, subject] of [
          [`?password=${TOKEN}`, 'password'],
          ['?user=analyst', 'user'],
          ['?session_id=abc', 'session_id'],
        ] as const) {
          const a = await post('SELECT 1', search);
          expect(a.status).toBe(400);
          expect(codeOf(a)).toBe(36);
          expect(a.body).toMatch(new RegExp(`(credentials_in_url|sessions_not_supported): ${subject}`));
        }
        await post('SELECT 1', '', { auth: basic(`${TOKEN}-wrong`) });
        expect(collector.output()).not.toContain(TOKEN);
      });
    });

    describe('what it refuses', () => {
      it.each([
        ['a file read', "SELECT * FROM file('/etc/hostname', 'LineAsString')", 497, 'table_function_not_allowed: file'],
        ['a file read through the function, its name quoted', "SELECT `file`('/etc/hostname')", 497, 'table_function_not_allowed: file'],
        ['a URL fetch', "SELECT * FROM url('http://127.0.0.1:1/', 'RawBLOB')", 497, 'table_function_not_allowed: url'],
        ['a file write', "INSERT INTO FUNCTION file('/tmp/tl-sql-test', 'TSV', 'a String') VALUES ('x')", 164, 'statement_not_allowed: INSERT'],
        ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/tl-sql-test'", 497, 'into_outfile_not_allowed'],
        ['two statements', 'SELECT 1; SELECT 2', 62, 'multiple_statements'],
        ['KILL', "KILL QUERY WHERE query_id = 'x'", 164, 'statement_not_allowed: KILL'],
        ['SYSTEM', 'SYSTEM FLUSH LOGS', 164, 'statement_not_allowed: SYSTEM'],
        ['an INSERT', 'INSERT INTO hits SELECT * FROM hits', 164, 'statement_not_allowed: INSERT'],
        ['DDL', 'CREATE TEMPORARY TABLE t (a UInt8)', 164, 'statement_not_allowed: CREATE'],
        ['the identity key', 'SELECT key FROM identity_key', 497, 'table_not_allowed: identity_key'],
        ['the identity key, quoted and qualified', 'SELECT key FROM "{db}".`identity_key`', 497, 'table_not_allowed: identity_key'],
        ['the CRM tokens', 'SELECT refresh_token FROM crm_oauth_tokens', 497, 'table_not_allowed: crm_oauth_tokens'],
        ['system.query_log', 'SELECT query FROM system.query_log', 497, 'system_table_not_allowed: system.query_log'],
        ['system.processes, quoted', 'SELECT query FROM "system"."processes"', 497, 'system_table_not_allowed: system.processes'],
        ['a SETTINGS clause', 'SELECT 1 SETTINGS readonly = 0', 497, 'settings_clause_not_allowed'],
      ])('%s', async (_what, sql, code, reason) => {
        const a = await post(sql.replace('{db}', db.name));
        expect(codeOf(a)).toBe(code);
        expect(a.status).toBe(code === 62 ? 400 : 403);
        expect(a.body).toContain(reason);
      });

      it('keeps the identity key unread, though it is there', async () => {
        const listed = await post("SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'identity_key'");
        expect(listed.body).toBe('1\n');
        const byParam = await post('SELECT * FROM {t:Identifier}', '?param_t=identity_key');
        expect(byParam.body).toContain('table_not_allowed: identity_key');
      });

      it.each([
        ['readonly=0', 164, 'readonly_required'],
        ['max_threads=64', 164, 'setting_not_allowed: max_threads'],
        ['allow_introspection_functions=1', 164, 'setting_not_allowed: allow_introspection_functions'],
        ['max_execution_time=3600', 452, 'setting_above_limit: max_execution_time'],
        [`max_result_bytes=${1024 ** 3}`, 452, 'setting_above_limit: max_result_bytes'],
        ['result_overflow_mode=break', 452, 'setting_above_limit: result_overflow_mode'],
        ['database=system', 497, 'database_not_allowed: system'],
      ])('the URL setting %s', async (search, code, reason) => {
        const a = await post('SELECT 1', `?${search}`);
        expect(codeOf(a)).toBe(code);
        expect(a.status).toBe(403);
        expect(a.body).toContain(reason);
      });

      it('refuses a body over 1 MB before running it', async () => {
        const a = await post(`SELECT '${'x'.repeat(1024 * 1024)}'`);
        expect(a.status).toBe(413);
        expect(codeOf(a)).toBe(229);
      });

      it('counts every outcome at /metrics', async () => {
        const before = await metrics();
        await post('SELECT 1');
        await post('SELECT * FROM system.query_log');
        await post('SELECT 1', '', { auth: null });
        await post('SELECT * FROM no_such_table_here');
        const after = await metrics();
        const delta = (outcome: string) => after.get(`throughline_sql_queries_total{outcome="${outcome}"}`) - before.get(`throughline_sql_queries_total{outcome="${outcome}"}`);
        expect([delta('ok'), delta('refused'), delta('unauthorized'), delta('engine_error'), delta('busy')]).toEqual([1, 1, 1, 1, 0]);
      });
    });
  });

  describe('with tight limits (SQL_MAX_CONCURRENT=1, SQL_MAX_RESULT_MB=1)', () => {
    let collector: RunningCollector;
    const post = async (body: string, search = '') => {
      const res = await fetch(`${collector.url}/sql${search}`, { method: 'POST', body, headers: { Authorization: basic() } });
      return { status: res.status, body: await res.text(), headers: res.headers };
    };
    beforeAll(async () => {
      collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: prefix, SQL_TOKEN: TOKEN, SQL_MAX_CONCURRENT: '1', SQL_MAX_RESULT_MB: '1' });
    });
    afterAll(async () => {
      await collector?.stop();
    });

    it('answers a result over the cap with an error, and goes on serving', async () => {
      const big = await post('SELECT number, toString(number) AS s FROM numbers(10000000) FORMAT JSONEachRow');
      expect(codeOf(big)).toBe(396);
      expect(big.status).toBe(500);
      expect(big.body.length).toBeLessThan(1000);
      expect((await post('SELECT 1')).body).toBe('1\n');
      // The analyst may lower the cap, not raise it.
      expect(codeOf(await post('SELECT 1', `?max_result_bytes=${2 * 1024 * 1024}`))).toBe(452);
    });

    it('refuses a query past SQL_MAX_CONCURRENT (503) while one runs, and takes the next once it is done', async () => {
      const slow = post('SELECT sleep(2)');
      await new Promise((r) => setTimeout(r, 500));
      const busy = await post('SELECT 1');
      expect(busy.status).toBe(503);
      expect(codeOf(busy)).toBe(202);
      expect((await slow).status).toBe(200);
      expect((await post('SELECT 1')).body).toBe('1\n');
    });
  });
});
