// What an analyst's query may do before it reaches the engine. `readonly = 2`
// alone is not enough: measured on the embedded 26.7 engine with it set,
// `file()` reads the collector's files, `url()` fetches any address, `INSERT INTO
// FUNCTION file(…)` writes files, KILL QUERY and CREATE TEMPORARY TABLE run, and
// the embedded engine has no users or grants to take these away. So a query is
// read first (lexer.ts, ClickHouse's own tokenizer rules) and refused, with a
// named reason, unless it is
//   - one statement (a trailing `;` is fine) that reads: SELECT, WITH, SHOW of
//     tables/columns/databases/…, DESCRIBE, EXISTS, or EXPLAIN of a SELECT;
//   - without a call of a table function other than the harmless few (the rest
//     taken from the engine's own system.table_functions, so a new engine's new
//     ones are refused too), or of a function that reaches outside the database;
//   - without INTO OUTFILE or a SETTINGS clause (settings come as URL
//     parameters, where route.ts checks them);
//   - without a reference to a table that holds a secret, or to a system table
//     outside the ones that describe the schema.
// Names are compared case-insensitively, as written bare, in "…" or `…`, with
// comments and spaces anywhere between a name, its dot and its parenthesis.
import { lex, type LexProblem, type Token } from './lexer.js';

export type Refusal = {
  /** The named reason, e.g. `table_function_not_allowed`. */
  reason: string;
  /** What was refused: the function, table or keyword. */
  subject?: string;
  /** The ClickHouse error code answered (errors.ts). */
  code: number;
};

export type GuardPolicy = {
  /** The engine's table functions (system.table_functions), lowercased. */
  tableFunctions: ReadonlySet<string>;
};

export type Admitted = {
  /** The statement as the engine gets it: a trailing `;` and what follows it cut off. */
  query: string;
  /** The format of a FORMAT clause ending the statement. */
  format?: string;
};

const SYNTAX_ERROR = 62;
const READONLY = 164;
const ACCESS_DENIED = 497;

/** Table functions that make rows from their arguments alone: they read no file, address, server or table by name. */
export const SAFE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(
  ['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generateRandom', 'generateSeries', 'generate_series', 'primes', 'values', 'SQLStandardValues', 'null', 'view', 'format'].map(
    (n) => n.toLowerCase(),
  ),
);

/**
 * Table functions refused even if an engine's system.table_functions should not
 * list them (18.16 and 26.x both do): files, addresses, other servers, and
 * tables chosen by a pattern or a string, which the name checks below cannot see.
 */
const ALWAYS_REFUSED_TABLE_FUNCTIONS = [
  'file', 'fileCluster', 'url', 'urlCluster', 's3', 's3Cluster', 'gcs', 'azureBlobStorage', 'hdfs', 'remote', 'remoteSecure',
  'cluster', 'clusterAllReplicas', 'merge', 'loop', 'input', 'executable', 'jdbc', 'odbc', 'mysql', 'postgresql', 'sqlite',
  'mongodb', 'redis', 'dictionary', 'filesystem', 'catBoostPool', 'mergeTreeIndex', 'viewIfPermitted', 'viewExplain',
].map((n) => n.toLowerCase());

/**
 * Ordinary functions that reach outside the database (26.7's system.functions):
 * file() reads a file; catboostEvaluate/modelEvaluate load a model file;
 * hasColumnInTable connects to a host given as its first argument;
 * getClientHTTPHeader reads the headers of the collector's own request to a
 * server (its credentials); joinGet reads a table named in a string.
 */
const OUTSIDE_FUNCTIONS: ReadonlySet<string> = new Set(
  ['file', 'catboostEvaluate', 'modelEvaluate', 'hasColumnInTable', 'getClientHTTPHeader', 'joinGet', 'joinGetOrNull'].map((n) => n.toLowerCase()),
);

/**
 * Tables that hold a secret: the HMAC key of the e-mail and phone hashes
 * (phones are few enough to try them all with it), the CRM's OAuth tokens, and
 * the CRM configuration with its webhook and client secrets.
 */
export const SECRET_TABLES: ReadonlySet<string> = new Set(['identity_key', 'crm_oauth_tokens', 'crm_config']);

/**
 * The system tables an analyst may read: the schema, the settings and the
 * engine's catalogue. Not query_log, processes, mutations and the like, which
 * hold other queries' text (the collector's, with values in it), nor the
 * tables of users, grants, disks and clusters.
 */
export const SYSTEM_TABLES: ReadonlySet<string> = new Set([
  'tables', 'columns', 'databases', 'parts', 'parts_columns', 'projections', 'data_skipping_indices', 'settings',
  'settings_changes', 'merge_tree_settings', 'functions', 'table_functions', 'table_engines', 'database_engines',
  'formats', 'data_type_families', 'aggregate_function_combinators', 'collations', 'time_zones', 'build_options',
  'contributors', 'licenses', 'keywords', 'one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'primes', 'metrics',
  'events', 'asynchronous_metrics',
]);

/** SHOW of these (after FULL, EXTENDED, TEMPORARY or CHANGED) describes the schema or the engine. */
const SHOW_WHAT = new Set(['TABLES', 'DATABASES', 'COLUMNS', 'FIELDS', 'DICTIONARIES', 'FUNCTIONS', 'ENGINES', 'SETTINGS', 'SETTING', 'INDEX', 'INDEXES', 'INDICES', 'KEYS', 'CREATE']);
const SHOW_MODIFIERS = new Set(['FULL', 'EXTENDED', 'TEMPORARY', 'CHANGED']);
/** SHOW CREATE of these; not of USER, ROLE, QUOTA, ROW POLICY or SETTINGS PROFILE. */
const SHOW_CREATE_WHAT = new Set(['TABLE', 'TEMPORARY', 'VIEW', 'DATABASE', 'DICTIONARY']);
const EXPLAIN_KINDS = new Set(['AST', 'SYNTAX', 'PLAN', 'PIPELINE', 'ESTIMATE']);

const LEX_REASONS: Record<LexProblem, string> = {
  unterminated_string: 'unterminated_string',
  unterminated_identifier: 'unterminated_identifier',
  unterminated_comment: 'unterminated_comment',
  nested_comment: 'nested_comment',
  unclear_escape: 'unclear_escape',
};

/** The policy of an engine from its table functions (the names of system.table_functions). */
export function guardPolicy(engineTableFunctions: Iterable<string>): GuardPolicy {
  const all = new Set(ALWAYS_REFUSED_TABLE_FUNCTIONS);
  for (const name of engineTableFunctions) all.add(name.toLowerCase());
  for (const safe of SAFE_TABLE_FUNCTIONS) all.delete(safe);
  return { tableFunctions: all };
}

const word = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text.toUpperCase());
const punct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;
const isName = (t: Token | undefined): t is Token & { name: string } => (t?.kind === 'word' || t?.kind === 'quoted') && t.name !== undefined;

const refuse = (reason: string, code: number, subject?: string): { refusal: Refusal } => ({ refusal: subject === undefined ? { reason, code } : { reason, code, subject } });

/** Whether the statement's first words make it one that reads. Returns the refusal, or the index of a SETTINGS word that is SHOW's own. */
function checkStatement(tokens: Token[]): { refusal: Refusal } | { showSettingsAt?: number } {
  let k = 0;
  while (punct(tokens[k], '(')) k++;
  const first = tokens[k];
  if (word(first, 'SELECT', 'WITH')) return {};
  const kind = first?.kind === 'word' || first?.kind === 'quoted' ? first.text.toUpperCase() : (first?.text ?? '');
  if (k === 0 && word(first, 'DESCRIBE', 'DESC', 'EXISTS')) return {};
  if (k === 0 && word(first, 'SHOW')) {
    let i = 1;
    while (word(tokens[i], ...SHOW_MODIFIERS)) i++;
    const what = tokens[i];
    if (!word(what, ...SHOW_WHAT)) return refuse('statement_not_allowed', READONLY, `SHOW ${what?.text ?? ''}`.trim());
    if (word(what, 'CREATE') && !word(tokens[i + 1], ...SHOW_CREATE_WHAT)) return refuse('statement_not_allowed', READONLY, `SHOW CREATE ${tokens[i + 1]?.text ?? ''}`.trim());
    return word(what, 'SETTINGS') ? { showSettingsAt: i } : {};
  }
  if (k === 0 && word(first, 'EXPLAIN')) {
    let i = 1;
    if (word(tokens[i], ...EXPLAIN_KINDS)) i++;
    else if (word(tokens[i], 'QUERY') && word(tokens[i + 1], 'TREE')) i += 2;
    // EXPLAIN's own options: name = value, …
    while (tokens[i]?.kind === 'word' && punct(tokens[i + 1], '=')) {
      i += 3;
      if (punct(tokens[i], ',')) i++;
    }
    while (punct(tokens[i], '(')) i++;
    if (word(tokens[i], 'SELECT', 'WITH')) return {};
    return refuse('statement_not_allowed', READONLY, `EXPLAIN ${tokens[i]?.text ?? ''}`.trim());
  }
  return refuse('statement_not_allowed', READONLY, kind || undefined);
}

/** Admits the query (`{ query, format }`) or names why not (`{ refusal }`). */
export function guard(sql: string, policy: GuardPolicy): Admitted | { refusal: Refusal } {
  // The engine's C side may end a query at a NUL; the guard would read on.
  if (sql.includes('\0')) return refuse('nul_byte', SYNTAX_ERROR);
  const lexed = lex(sql);
  if ('problem' in lexed) return refuse(LEX_REASONS[lexed.problem], SYNTAX_ERROR);
  let tokens = lexed.tokens;
  let end = sql.length;
  const semicolon = tokens.findIndex((t) => punct(t, ';'));
  if (semicolon !== -1) {
    if (semicolon < tokens.length - 1) return refuse('multiple_statements', SYNTAX_ERROR);
    end = tokens[semicolon]!.start;
    tokens = tokens.slice(0, semicolon);
  }
  if (tokens.length === 0) return refuse('empty_query', SYNTAX_ERROR);

  const statement = checkStatement(tokens);
  if ('refusal' in statement) return statement;

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'SETTINGS' && i !== statement.showSettingsAt && !punct(tokens[i - 1], '.')) return refuse('settings_clause_not_allowed', ACCESS_DENIED);
      if (w === 'INTO' && word(next, 'OUTFILE')) return refuse('into_outfile_not_allowed', ACCESS_DENIED);
      if (w === 'PARALLEL' && word(next, 'WITH')) return refuse('statement_not_allowed', READONLY, 'PARALLEL WITH');
    }
    if (!isName(t)) continue;
    const name = t.name.toLowerCase();
    if (SECRET_TABLES.has(name)) return refuse('table_not_allowed', ACCESS_DENIED, t.name);
    if (punct(next, '(')) {
      if (policy.tableFunctions.has(name)) return refuse('table_function_not_allowed', ACCESS_DENIED, t.name);
      if (OUTSIDE_FUNCTIONS.has(name)) return refuse('function_not_allowed', ACCESS_DENIED, t.name);
    }
    if (name === 'system' && punct(next, '.')) {
      const table = tokens[i + 2];
      if (isName(table) && !SYSTEM_TABLES.has(table.name.toLowerCase())) return refuse('system_table_not_allowed', ACCESS_DENIED, `system.${table.name}`);
    }
  }

  const admitted: Admitted = { query: sql.slice(0, end) };
  const last = tokens[tokens.length - 1]!;
  if (tokens.length >= 2 && word(tokens[tokens.length - 2], 'FORMAT') && isName(last)) admitted.format = last.name;
  return admitted;
}

/** The sentence after a refusal's reason, for the analyst reading the error. */
export const REFUSAL_DETAIL: Record<string, string> = {
  nul_byte: 'a NUL character in the query',
  unterminated_string: 'a string is not closed',
  unterminated_identifier: 'a quoted name is not closed',
  unterminated_comment: 'a comment is not closed',
  nested_comment: 'a /* comment inside a comment: engines read these differently, so the SQL endpoint refuses them',
  unclear_escape: 'a \\x escape in a quoted name without two hex digits',
  multiple_statements: 'one statement per request',
  empty_query: 'no query was given (query= or the request body)',
  statement_not_allowed: 'the SQL endpoint runs SELECT, WITH, SHOW (of tables, columns, databases, settings, functions), DESCRIBE, EXISTS and EXPLAIN of a SELECT',
  table_function_not_allowed: 'table functions that read files, addresses, other servers or tables picked by name are refused; numbers, zeros, generateRandom, generate_series, values, null, view and format run',
  function_not_allowed: 'it reaches outside the database (a file, a host, the request of the collector, a table named in a string)',
  table_not_allowed: 'it holds a secret (the key of the contact hashes, the CRM tokens or the CRM configuration)',
  system_table_not_allowed: `of the system tables only ${[...SYSTEM_TABLES].join(', ')} are readable`,
  settings_clause_not_allowed: 'give settings as URL parameters (?max_result_rows=1000), where the allowed ones are checked',
  into_outfile_not_allowed: 'the result goes to the HTTP answer only',
};
