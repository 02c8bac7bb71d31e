// The SQL endpoint's guard: what reaches the engine and what is refused, by
// name. The tricky cases are the ones where a reader that is not ClickHouse's
// own tokenizer would see a string or a comment where the engine sees code (or
// the other way round): keywords inside strings, comments and quoted names,
// escapes, heredocs, a number's exponent before `--`, names spelled in other
// cases, quoted, escaped or with comments between them and their parenthesis.
import { describe, expect, it } from 'vitest';
import { lex } from '../../collector/src/sql/lexer.js';
import { guard, guardPolicy, SAFE_TABLE_FUNCTIONS } from '../../collector/src/sql/guard.js';
import { substituteParams, unescapeValue } from '../../collector/src/sql/params.js';
import { engineSettings, planRequest } from '../../collector/src/sql/settings.js';
import { engineError } from '../../collector/src/sql/errors.js';
import { contentType } from '../../collector/src/sql/formats.js';

// The table functions of ClickHouse 26.7 (system.table_functions), as the endpoint reads them at start.
const ENGINE_TABLE_FUNCTIONS = [
  'SQLStandardValues', 'arrowstream', 'azureBlobStorage', 'cluster', 'clusterAllReplicas', 'deltaLake', 'dictionary', 'eval', 'executable',
  'file', 'fileCluster', 'filesystem', 'format', 'fuzzJSON', 'fuzzQuery', 'gcs', 'generateRandom', 'generateSeries', 'generate_series', 'hdfs',
  'iceberg', 'input', 'jdbc', 'loop', 'merge', 'mergeTreeIndex', 'mongodb', 'mysql', 'null', 'numbers', 'numbers_mt', 'odbc', 'postgresql',
  'primes', 'redis', 'remote', 'remoteSecure', 's3', 's3Cluster', 'sqlite', 'url', 'urlCluster', 'values', 'view', 'viewExplain',
  'viewIfPermitted', 'zeros', 'zeros_mt',
];
const policy = guardPolicy(ENGINE_TABLE_FUNCTIONS);
const check = (sql: string) => guard(sql, policy);
/** The refusal's reason and subject, or 'admitted'. */
const verdict = (sql: string) => {
  const v = check(sql);
  return 'refusal' in v ? [v.refusal.reason, v.refusal.subject].filter(Boolean).join(': ') : 'admitted';
};

describe('the guard admits reading queries', () => {
  it.each([
    'SELECT 1',
    'select count() from hits where site = \'a\'',
    'WITH 1 AS x SELECT x',
    '(SELECT 1) UNION ALL (SELECT 2)',
    'SHOW TABLES',
    'SHOW FULL TABLES FROM throughline',
    'SHOW DATABASES',
    'SHOW CREATE TABLE hits',
    'SHOW SETTINGS LIKE \'max%\'',
    'DESCRIBE TABLE hits',
    'DESC hits',
    'EXISTS TABLE hits',
    'EXPLAIN SELECT 1',
    'EXPLAIN PIPELINE header = 1 SELECT 1',
    'EXPLAIN QUERY TREE SELECT 1',
    'SELECT * FROM system.tables WHERE database = currentDatabase()',
    'SELECT name FROM "system"."columns"',
    'SELECT * FROM system . settings',
    'SELECT * FROM numbers(10)',
    'SELECT * FROM generateRandom(\'a UInt8\', 1, 10, 2) LIMIT 3',
    'SELECT * FROM view(SELECT 1)',
    'SELECT format(\'{} {}\', 1, 2)',
    'SELECT * FROM values(\'x UInt8\', 1, 2)',
  ])('%s', (sql) => {
    expect(verdict(sql)).toBe('admitted');
  });

  it.each([
    ['a keyword in a string', "SELECT 'file(\\'/etc/passwd\\') INTO OUTFILE SETTINGS system.query_log identity_key' AS s"],
    ['a keyword in a -- comment', 'SELECT 1 -- file(x) INTO OUTFILE; DROP TABLE hits\n'],
    ['a keyword in a # comment', 'SELECT 1 # file(x) SETTINGS a = 1\n'],
    ['a keyword in a // comment', 'SELECT 1 // file(x)\n'],
    ['a keyword in a /* */ comment', 'SELECT /* file(x); SETTINGS */ 1'],
    ['a keyword as a quoted name', 'SELECT 1 AS "SETTINGS", 2 AS `INTO OUTFILE`'],
    ['a doubled quote in a string', "SELECT 'it''s file(''/etc'')' AS s"],
    ['an escaped quote in a string', "SELECT 'a\\' , file(' AS s"],
    ['a heredoc', "SELECT $$ file('/etc/passwd') ; $$ AS s"],
    ['a tagged heredoc', "SELECT $doc$ it's file('x') $doc$ AS s"],
    ['a column named like a function, not called', 'SELECT file, url FROM t'],
    ['a secret table named in a string', "SELECT * FROM system.tables WHERE name = 'identity_key'"],
    ['a trailing semicolon and a comment after it', 'SELECT 1; -- done'],
  ])('%s', (_what, sql) => {
    expect(verdict(sql)).toBe('admitted');
  });

  it('cuts the trailing semicolon and reads the FORMAT clause', () => {
    expect(check('SELECT 1 AS a FORMAT JSONEachRow; -- done')).toEqual({ query: 'SELECT 1 AS a FORMAT JSONEachRow', format: 'JSONEachRow' });
    expect(check('SELECT 1 FORMAT `CSVWithNames`')).toEqual({ query: 'SELECT 1 FORMAT `CSVWithNames`', format: 'CSVWithNames' });
    expect(check('SELECT format(\'{}\', 1)')).toEqual({ query: "SELECT format('{}', 1)" });
  });
});

describe('the guard refuses, naming why', () => {
  it.each([
    ['file() as a table function', "SELECT * FROM file('/etc/hostname', 'LineAsString')", 'table_function_not_allowed: file'],
    ['file() as a function', "SELECT file('/etc/hostname')", 'table_function_not_allowed: file'],
    ['another case and a space', "SELECT * FROM FiLe ('/etc/hostname')", 'table_function_not_allowed: FiLe'],
    ['a comment before the parenthesis', "SELECT file/* x */('/etc/hostname')", 'table_function_not_allowed: file'],
    ['a newline and a comment before the parenthesis', "SELECT file -- x\n('/etc/hostname')", 'table_function_not_allowed: file'],
    ['a no-break space before the parenthesis', "SELECT file\u00a0('/etc/hostname')", 'table_function_not_allowed: file'],
    ['a backticked name', "SELECT `file`('/etc/hostname')", 'table_function_not_allowed: file'],
    ['a double-quoted name', "SELECT \"file\"('/etc/hostname')", 'table_function_not_allowed: file'],
    ['a hex escape in a quoted name', "SELECT `fil\\x65`('/etc/hostname')", 'table_function_not_allowed: file'],
    ['url() (SSRF)', "SELECT * FROM url('http://169.254.169.254/', 'RawBLOB')", 'table_function_not_allowed: url'],
    ['s3()', "SELECT * FROM s3('http://x/y')", 'table_function_not_allowed: s3'],
    ['remote()', "SELECT * FROM remote('127.0.0.1', system.one)", 'table_function_not_allowed: remote'],
    ['merge(), which picks tables by a pattern', "SELECT * FROM merge(currentDatabase(), '^identity')", 'table_function_not_allowed: merge'],
    ['a table function only this engine has', "SELECT * FROM eval('x')", 'table_function_not_allowed: eval'],
    ['executable()', "SELECT * FROM executable('sh', 'TSV', 'x String')", 'table_function_not_allowed: executable'],
    ['a function that connects to a host', "SELECT hasColumnInTable('evil.example', 'db', 't', 'c')", 'function_not_allowed: hasColumnInTable'],
    ['a function reading the request headers', "SELECT getClientHTTPHeader('Authorization')", 'function_not_allowed: getClientHTTPHeader'],
    ['joinGet on a table named in a string', "SELECT joinGet('identity', 'key', 1)", 'function_not_allowed: joinGet'],
    ['a call hidden behind a number exponent (1e- then -5, not a comment)', "SELECT 1e--5, file('x')", 'table_function_not_allowed: file'],
    ['a call after an escaped backslash ends the string', "SELECT 'a\\\\', file('x')", 'table_function_not_allowed: file'],
    ['a call after a heredoc', "SELECT $x$ ' $x$, file('y')", 'table_function_not_allowed: file'],
    ['a call after #name (not a comment)', "SELECT 1 #x\n, file('y')", 'table_function_not_allowed: file'],
    ['INSERT INTO FUNCTION file()', "INSERT INTO FUNCTION file('/tmp/x', 'TSV', 'a String') VALUES ('x')", 'statement_not_allowed: INSERT'],
    ['INSERT', 'INSERT INTO hits SELECT * FROM hits', 'statement_not_allowed: INSERT'],
    ['KILL QUERY', "KILL QUERY WHERE query_id = 'x'", 'statement_not_allowed: KILL'],
    ['SYSTEM', 'SYSTEM SHUTDOWN', 'statement_not_allowed: SYSTEM'],
    ['CREATE TEMPORARY TABLE', 'CREATE TEMPORARY TABLE t (a UInt8)', 'statement_not_allowed: CREATE'],
    ['SET', 'SET readonly = 0', 'statement_not_allowed: SET'],
    ['USE', 'USE system', 'statement_not_allowed: USE'],
    ['DROP in lower case', 'drop table hits', 'statement_not_allowed: DROP'],
    ['a write in parentheses', '(INSERT INTO t VALUES (1))', 'statement_not_allowed: INSERT'],
    ['SHOW PROCESSLIST', 'SHOW PROCESSLIST', 'statement_not_allowed: SHOW PROCESSLIST'],
    ['SHOW FULL PROCESSLIST', 'SHOW FULL PROCESSLIST', 'statement_not_allowed: SHOW PROCESSLIST'],
    ['SHOW GRANTS', 'SHOW GRANTS', 'statement_not_allowed: SHOW GRANTS'],
    ['SHOW CREATE USER', 'SHOW CREATE USER default', 'statement_not_allowed: SHOW CREATE USER'],
    ['EXPLAIN of a write', 'EXPLAIN AST INSERT INTO t VALUES (1)', 'statement_not_allowed: EXPLAIN INSERT'],
    ['PARALLEL WITH', 'SELECT 1 PARALLEL WITH SELECT 2', 'statement_not_allowed: PARALLEL WITH'],
    ['two statements', 'SELECT 1; SELECT 2', 'multiple_statements'],
    ['two statements, the second a write', "SELECT 1;INSERT INTO FUNCTION file('/tmp/x') VALUES (1)", 'multiple_statements'],
    ['an empty statement after the first', 'SELECT 1;;', 'multiple_statements'],
    ['nothing but a comment', '-- nothing\n', 'empty_query'],
    ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/x'", 'into_outfile_not_allowed'],
    ['INTO OUTFILE with a comment between', "SELECT 1 into /* */ outfile '/tmp/x'", 'into_outfile_not_allowed'],
    ['a SETTINGS clause', 'SELECT 1 SETTINGS readonly = 0', 'settings_clause_not_allowed'],
    ['a SETTINGS clause in a subquery', 'SELECT * FROM (SELECT 1 settings max_threads = 64)', 'settings_clause_not_allowed'],
    ['system.query_log', 'SELECT query FROM system.query_log', 'system_table_not_allowed: system.query_log'],
    ['system . query_log with spaces and a comment', 'SELECT query FROM system /* */ . query_log', 'system_table_not_allowed: system.query_log'],
    ['"system"."query_log"', 'SELECT query FROM "system"."query_log"', 'system_table_not_allowed: system.query_log'],
    ['`system`.`processes`', 'SELECT query FROM `system`.`processes`', 'system_table_not_allowed: system.processes'],
    ['SYSTEM.QUERY_LOG in capitals', 'SELECT 1 FROM SYSTEM.QUERY_LOG', 'system_table_not_allowed: system.QUERY_LOG'],
    ['DESCRIBE of a system table not listed', 'DESCRIBE system.users', 'system_table_not_allowed: system.users'],
    ['identity_key', 'SELECT key FROM identity_key', 'table_not_allowed: identity_key'],
    ['default.identity_key', 'SELECT key FROM default.identity_key', 'table_not_allowed: identity_key'],
    ['a backticked identity_key', 'SELECT key FROM throughline.`identity_key`', 'table_not_allowed: identity_key'],
    ['a double-quoted identity_key', 'SELECT key FROM "throughline"."identity_key"', 'table_not_allowed: identity_key'],
    ['identity_key spelled with an escape', 'SELECT key FROM `identity_k\\x65y`', 'table_not_allowed: identity_key'],
    ['identity_key in a subquery of view()', 'SELECT * FROM view(SELECT * FROM identity_key)', 'table_not_allowed: identity_key'],
    ['the CRM tokens', 'SELECT refresh_token FROM crm_oauth_tokens', 'table_not_allowed: crm_oauth_tokens'],
    ['the CRM configuration', 'SELECT body FROM crm_config', 'table_not_allowed: crm_config'],
    ['a nested comment (26.x nests them, 18.16 does not)', "SELECT 1 /* /* */ , file('/etc/passwd') -- */", 'nested_comment'],
    ['an unterminated string', "SELECT 'abc", 'unterminated_string'],
    ['an unterminated quoted name', 'SELECT `abc', 'unterminated_identifier'],
    ['an unterminated comment', 'SELECT 1 /* abc', 'unterminated_comment'],
    ['an unclear escape in a quoted name', 'SELECT `fil\\xZZ`', 'unclear_escape'],
    ['a NUL character', 'SELECT 1\0; DROP TABLE hits', 'nul_byte'],
  ])('%s', (_what, sql, reason) => {
    expect(verdict(sql)).toBe(reason);
  });

  it('takes the refused table functions from the engine, keeping the harmless ones', () => {
    const other = guardPolicy(['numbers', 'brandNewReader']);
    expect('refusal' in guard('SELECT * FROM brandNewReader(1)', other)).toBe(true);
    expect('refusal' in guard('SELECT * FROM numbers(1)', other)).toBe(false);
    // The ones every engine must not run are refused even when the engine does not list them.
    expect('refusal' in guard("SELECT * FROM url('http://x')", other)).toBe(true);
    for (const safe of SAFE_TABLE_FUNCTIONS) expect(policy.tableFunctions.has(safe)).toBe(false);
  });
});

describe('the tokenizer', () => {
  const kinds = (sql: string) => {
    const l = lex(sql);
    return 'problem' in l ? l.problem : l.tokens.map((t) => `${t.kind}:${t.text}`);
  };
  it('reads numbers as the engine does', () => {
    expect(kinds('1e--5')).toEqual(['number:1e-', 'punct:-', 'number:5']);
    expect(kinds('1_000.5e+3')).toEqual(['number:1_000.5e+3']);
    expect(kinds('0x1F 0b101 1abc')).toEqual(['number:0x1F', 'number:0b101', 'word:1abc']);
    expect(kinds('t.1.2')).toEqual(['word:t', 'punct:.', 'number:1', 'punct:.', 'number:2']);
  });
  it('reads strings, names and heredocs whole', () => {
    expect(kinds("x'4142' 'a''b' 'c\\'d'")).toEqual(["string:x'4142'", "string:'a''b'", "string:'c\\'d'"]);
    expect(kinds('$a b$ x $a b$ $$ $')).toEqual(['string:$a b$ x $a b$', 'punct:$', 'punct:$', 'punct:$']);
    expect(kinds('a$b $c')).toEqual(['word:a$b', 'word:$c']);
  });
});

describe('query parameters', () => {
  const sub = (sql: string, params: Record<string, string>) => {
    const r = substituteParams(sql, new Map(Object.entries(params)));
    return 'refusal' in r ? `${r.refusal.reason}: ${r.refusal.subject}` : r.query;
  };
  it('puts a typed value in place of each placeholder, as ClickHouse does', () => {
    expect(sub('SELECT {s:String} AS s, {n:UInt32} AS n', { s: "it's a\\tb", n: '7' })).toBe("SELECT CAST('it\\'s a\tb' AS String) AS s, CAST('7' AS UInt32) AS n");
    expect(sub('SELECT {x:Nullable(String)}', { x: '\\N' })).toBe('SELECT CAST(NULL AS Nullable(String))');
    expect(sub("SELECT {a:Array(String)}", { a: "['a','b\\'c']" })).toBe("SELECT CAST(['a','b\\'c'] AS Array(String))");
    expect(sub('SELECT * FROM numbers(10) LIMIT {n:UInt32} OFFSET {o:UInt8}', { n: '3', o: '2' })).toBe('SELECT * FROM numbers(10) LIMIT 3 OFFSET 2');
    expect(sub('SELECT 1 LIMIT {a:UInt8}, {b:UInt8}', { a: '1', b: '2' })).toBe('SELECT 1 LIMIT 1, 2');
    expect(sub("SELECT '{s:String}' -- {s:String}\n", {})).toBe("SELECT '{s:String}' -- {s:String}\n");
  });
  it('makes an Identifier a quoted name, so the guard sees the table it names', () => {
    expect(sub('SELECT * FROM {t:Identifier}', { t: 'throughline.hits' })).toBe('SELECT * FROM `throughline`.`hits`');
    const q = sub('SELECT * FROM {t:Identifier}', { t: 'identity_key' });
    expect(verdict(q)).toBe('table_not_allowed: identity_key');
  });
  it('refuses a placeholder without a value, and a composite value that is more than a literal', () => {
    expect(sub('SELECT {x:UInt8}', {})).toBe('query_parameter_not_set: x');
    expect(sub('SELECT {a:Array(String)}', { a: "[file('/etc/passwd')]" })).toBe('bad_query_parameter: a');
    expect(sub('SELECT {a:Array(UInt8)}', { a: '[1] -- ' })).toBe('bad_query_parameter: a');
  });
  it('reads a value in the escaped form', () => {
    expect(unescapeValue('a\\tb\\nc\\\\d\\%\\x41\\N')).toBe('a\tb\nc\\d\\%A');
  });
});

describe('URL settings', () => {
  const limits = { maxSeconds: 60, maxResultBytes: 64 * 1024 * 1024 };
  const plan = (qs: string, headers = {}) => {
    const p = planRequest(new URLSearchParams(qs), headers, limits);
    return 'refusal' in p ? `${p.refusal.reason}${p.refusal.subject ? `: ${p.refusal.subject}` : ''}` : p;
  };
  it('takes output settings, lowered limits and the HTTP ones, and puts readonly last', () => {
    const p = plan('output_format_json_quote_64bit_integers=0&max_execution_time=5&max_result_bytes=1000&readonly=1&wait_end_of_query=0&enable_http_compression=1&database=throughline&default_format=JSON&query_id=abc&param_x=1');
    if (typeof p === 'string') throw new Error(p);
    expect(p).toMatchObject({ database: 'throughline', defaultFormat: 'JSON', queryId: 'abc', readonly: '1', compress: true, maxExecutionTime: 5, maxResultBytes: 1000 });
    expect(p.params.get('x')).toBe('1');
    const s = engineSettings(p, 'JSON');
    expect(s).toEqual({ wait_end_of_query: '0', output_format_json_quote_64bit_integers: '0', max_execution_time: 5, max_result_bytes: 1000, result_overflow_mode: 'throw', default_format: 'JSON', readonly: 1 });
    expect(Object.keys(s).at(-1)).toBe('readonly');
  });
  it('applies the endpoint limits when none or 0 is asked for', () => {
    const p = plan('max_execution_time=0');
    if (typeof p === 'string') throw new Error(p);
    expect(engineSettings(p, 'TabSeparated')).toMatchObject({ max_execution_time: 60, max_result_bytes: 64 * 1024 * 1024, readonly: 2, wait_end_of_query: 1 });
  });
  it.each([
    ['readonly=0', 'readonly_required: readonly=0 (1 or 2)'],
    ['max_execution_time=61', 'setting_above_limit: max_execution_time (at most 60)'],
    [`max_result_bytes=${64 * 1024 * 1024 + 1}`, `setting_above_limit: max_result_bytes (at most ${64 * 1024 * 1024})`],
    ['result_overflow_mode=break', 'setting_above_limit: result_overflow_mode (throw only)'],
    ['max_threads=64', 'setting_not_allowed: max_threads'],
    ['max_memory_usage=0', 'setting_not_allowed: max_memory_usage'],
    ['allow_introspection_functions=1', 'setting_not_allowed: allow_introspection_functions'],
    ['output_format_schema=/tmp/x.proto', 'setting_not_allowed: output_format_schema'],
    ['input_format_record_errors_file_path=/tmp/x', 'setting_not_allowed: input_format_record_errors_file_path'],
    ['format_template_resultset=/etc/passwd', 'setting_not_allowed: format_template_resultset'],
    ["output_format_csv_crlf_end_of_line=1';DROP", 'bad_setting_value: output_format_csv_crlf_end_of_line'],
    ['format_csv_delimiter=\\', 'bad_setting_value: format_csv_delimiter'],
    ['user=analyst', 'credentials_in_url: user'],
    ['password=secret', 'credentials_in_url: password'],
    ['session_id=1', 'sessions_not_supported: session_id'],
    ['database=system', 'database_not_allowed: system'],
    ['database=a%20b', 'bad_database: a b'],
    ['compress=1', 'compress_not_supported: compress=1 (use enable_http_compression=1)'],
    ['extremes=1&extremes=0', 'repeated_parameter: extremes'],
    ['param_a-b=1', 'bad_query_parameter: param_a-b'],
  ])('%s is refused', (qs, reason) => {
    expect(plan(qs)).toBe(reason);
  });
});

describe('errors and formats', () => {
  it('reads an 18.16 error, which names no type, and a 26.x one', () => {
    expect(engineError(new Error('Code: 60, e.displayText() = DB::Exception: Table default.nope doesn\'t exist., e.what() = DB::Exception\n'))).toEqual({ code: 60, text: "Table default.nope doesn't exist." });
    const parsed = Object.assign(new Error('Unknown table expression identifier \'nope\'. '), { code: '60', type: 'UNKNOWN_TABLE' });
    expect(engineError(parsed)).toEqual({ code: 60, text: "Unknown table expression identifier 'nope'.", name: 'UNKNOWN_TABLE' });
    expect(engineError(new Error('Code: 396. DB::Exception: Limit for result exceeded. (TOO_MANY_ROWS_OR_BYTES) (version 26.7.2.1)'))).toEqual({ code: 396, text: 'Limit for result exceeded.', name: 'TOO_MANY_ROWS_OR_BYTES' });
    expect(engineError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeNull();
  });
  it('gives each format the Content-Type ClickHouse gives it', () => {
    expect(contentType('TabSeparated')).toBe('text/tab-separated-values; charset=UTF-8');
    expect(contentType('TSVWithNames')).toBe('text/tab-separated-values; charset=UTF-8');
    expect(contentType('JSONEachRow')).toBe('application/json; charset=UTF-8');
    expect(contentType('CSV')).toBe('text/csv; charset=UTF-8; header=absent');
    expect(contentType('CSVWithNames')).toBe('text/csv; charset=UTF-8; header=present');
    expect(contentType('Pretty')).toBe('text/plain; charset=UTF-8');
  });
});
