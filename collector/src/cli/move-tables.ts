// What `npm run move` copies and how (move.ts is the command): which of the
// collector's tables carry data of their own, whether a column type travels
// unchanged from ClickHouse 26.x to 18.16, the pieces a table is read in, and
// the counts that show a copy is whole.
//
// The format is RowBinary. Every type the schema uses (String, the integers,
// Date, DateTime with or without a zone, Array of them) is written by 26.x
// exactly as 18.16 reads it: fixed-width little-endian numbers, Date as days
// (UInt16), DateTime as unix seconds (UInt32), strings and arrays prefixed by a
// varint length. Nothing is parsed or printed on the way, so no value can change:
// TabSeparated would print a DateTime in one engine's time zone and parse it in
// the other's (identity_key.created_at has no zone of its own), and Native may
// carry serializations (sparse, new type encodings) that 18.16 does not read.
import { queryRows, type ClickHouseClient } from '../clickhouse/client.js';
import type { Migration } from '../clickhouse/migrate.js';
import { ident, str } from '../clickhouse/sql.js';

/**
 * Tables of the migrations whose rows the collector writes again from the
 * others, so they are not copied. All four are identity resolution's output
 * (attribution/resolve.ts): the server's collector finds no finished run in
 * attribution_runs, so its first report waits for a resolution of the copied
 * hits, deals and links and writes them anew (the migrations 0023, 0051 and
 * 0055 drop them for the same reason). Copying them would only carry runs that
 * the next resolution replaces.
 */
export const DERIVED = new Set(['attribution_members', 'attribution_conversions', 'attribution_touches', 'attribution_ids', 'attribution_runs']);

/** The migrations' own record, which the server keeps for itself (its migrations ran there). */
export const SCHEMA_MIGRATIONS = 'schema_migrations';

/** What the migrations create: tables, and views (materialized or not). */
export function migrationObjects(migrations: Migration[]): { tables: Set<string>; views: Set<string> } {
  const tables = new Set<string>([SCHEMA_MIGRATIONS]);
  const views = new Set<string>();
  for (const statement of migrations.flatMap((m) => m.statements)) {
    const m = /^CREATE\s+(TABLE|VIEW|MATERIALIZED\s+VIEW)\s+IF\s+NOT\s+EXISTS\s+\{db\}\.([A-Za-z_][A-Za-z0-9_]*)/i.exec(statement);
    if (!m) continue;
    (m[1]!.toUpperCase() === 'TABLE' ? tables : views).add(m[2]!);
  }
  return { tables, views };
}

export type TableInfo = { name: string; engine: string; partitionKey: string; sortingKey: string };

/** The tables and views of `db` by name (none when the database does not exist). */
export async function listTables(client: ClickHouseClient, db: string): Promise<Map<string, TableInfo>> {
  const rows = await queryRows<{ name: string; engine: string; partition_key: string; sorting_key: string }>(
    client,
    `SELECT name, engine, partition_key, sorting_key FROM system.tables WHERE database = ${str(db)}`,
  );
  return new Map(rows.map((r) => [r.name, { name: r.name, engine: r.engine, partitionKey: r.partition_key, sortingKey: r.sorting_key }]));
}

export const isView = (t: TableInfo) => t.engine === 'View' || t.engine === 'MaterializedView';
/** Tables that fold rows of one key as they merge (Replacing, Summing, …): their rows are counted one per key. */
export const foldsRows = (t: TableInfo) => t.engine !== 'MergeTree';

export type Column = { name: string; type: string };

/** The stored columns of a table (MATERIALIZED and ALIAS columns are computed, never inserted). */
export async function storedColumns(client: ClickHouseClient, db: string, table: string): Promise<Column[]> {
  return queryRows<Column>(
    client,
    `SELECT name, type FROM system.columns WHERE database = ${str(db)} AND table = ${str(table)} AND default_kind NOT IN ('MATERIALIZED', 'ALIAS')`,
  );
}

const SCALAR = /^(?:U?Int(?:8|16|32|64)|Float(?:32|64)|String|FixedString\(\d+\)|Date|DateTime|DateTime\('[A-Za-z0-9_/+-]*'\))$/;

/**
 * Whether a column type's RowBinary is the same in 26.x and 18.16 (see the
 * head of this file). Types 18.16 lacks (Bool, Map, LowCardinality, DateTime64,
 * JSON…) and types whose encoding moved between versions (UUID, Decimal, Enum,
 * Nullable are not used by the schema, so not vouched for) are refused.
 */
export function portableType(type: string): boolean {
  const array = /^Array\((.*)\)$/.exec(type);
  return array ? portableType(array[1]!) : SCALAR.test(type);
}

/**
 * Why the table cannot be copied column for column, or null: the two sides must
 * have the same stored columns with the same types, each of a portable type.
 */
export function columnMismatch(table: string, from: Column[], to: Column[]): string | null {
  const target = new Map(to.map((c) => [c.name, c.type]));
  const source = new Map(from.map((c) => [c.name, c.type]));
  for (const c of from) {
    if (!target.has(c.name)) return `${table}.${c.name} is not on the server (a schema newer than this version's migrations?)`;
    if (target.get(c.name) !== c.type) return `${table}.${c.name} is ${c.type} here and ${target.get(c.name)} on the server`;
  }
  for (const c of to) if (!source.has(c.name)) return `${table}.${c.name} is on the server but not in the embedded data`;
  for (const c of from) {
    if (!portableType(c.type)) return `${table}.${c.name} is ${c.type}, not known to be written by one engine as the other reads it`;
    try {
      ident(c.name);
    } catch {
      return `${table}.${c.name}: only plain column names are copied`;
    }
  }
  return null;
}

/**
 * The pieces a table is read in, as WHERE conditions: each a slice of one part
 * (`_part`, `_part_offset`), at most `maxRows` rows and about `maxBytes` of
 * uncompressed data, because the embedded engine holds a whole result in memory.
 * The parts must not change meanwhile (merges stopped). A piece never spans two
 * parts, so rows reach the server in the order the parts were written, and a
 * table that keeps the last of its repeated rows keeps the same one there.
 */
export async function pieces(client: ClickHouseClient, db: string, table: string, maxRows: number, maxBytes: number): Promise<string[]> {
  const parts = await queryRows<{ name: string; rows: string; bytes: string }>(
    client,
    `SELECT name, toString(rows) AS rows, toString(data_uncompressed_bytes) AS bytes FROM system.parts
     WHERE database = ${str(db)} AND table = ${str(table)} AND active ORDER BY partition_id, min_block_number`,
  );
  const out: string[] = [];
  for (const p of parts) {
    const rows = Number(p.rows);
    if (rows === 0) continue;
    const rowBytes = Math.max(1, Number(p.bytes) / rows);
    const per = Math.max(1, Math.min(maxRows, Math.floor(maxBytes / rowBytes)));
    if (rows <= per) {
      out.push(`_part = ${str(p.name)}`);
      continue;
    }
    for (let from = 0; from < rows; from += per) out.push(`_part = ${str(p.name)} AND _part_offset >= ${from} AND _part_offset < ${from + per}`);
  }
  return out;
}

/** A partition as system.parts prints it, when it is a number (every partition key of the schema is): usable as a literal. */
const NUMERIC_PARTITION = /^-?\d+$/;

/**
 * The rows of a table as ClickHouse keeps them: every row of a plain MergeTree;
 * one per key (and partition) of a table that folds repeated keys as it merges,
 * counted with FINAL, so that merges on either side, at any moment, do not
 * change the figure. Counted a partition at a time, so one query stays small on
 * a big table.
 */
export async function keptRows(client: ClickHouseClient, db: string, t: TableInfo, table = t.name): Promise<number> {
  const full = `${ident(db)}.${ident(table)}`;
  if (!foldsRows(t)) return Number(await scalar(client, `SELECT count() FROM ${full}`));
  const partitions = (await queryRows<{ partition: string }>(client, `SELECT DISTINCT partition FROM system.parts WHERE database = ${str(db)} AND table = ${str(table)} AND active`)).map(
    (p) => p.partition,
  );
  if (!partitions.every((p) => NUMERIC_PARTITION.test(p))) return Number(await scalar(client, `SELECT count() FROM ${full} FINAL`));
  let n = 0;
  for (const p of partitions) n += Number(await scalar(client, `SELECT count() FROM ${full} FINAL WHERE (${t.partitionKey}) = ${p}`));
  return n;
}

/**
 * The keys of `a` and `b` together (two tables of one structure), as `keptRows`
 * of their union would count them: what a table that folds rows will keep once
 * `b`'s partitions are attached to `a`.
 */
export async function keysOfBoth(client: ClickHouseClient, db: string, t: TableInfo, a: string, b: string): Promise<number> {
  const union = `(SELECT * FROM ${ident(db)}.${ident(a)} UNION ALL SELECT * FROM ${ident(db)}.${ident(b)})`;
  const partition = t.partitionKey && t.partitionKey !== 'tuple()' ? `${t.partitionKey}, ` : '';
  return Number(await scalar(client, `SELECT uniqExact(${partition}${t.sortingKey}) FROM ${union}`));
}

/** The partitions (ids) that hold rows of a table. */
export async function partitionIds(client: ClickHouseClient, db: string, table: string): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(client, `SELECT DISTINCT partition_id AS id FROM system.parts WHERE database = ${str(db)} AND table = ${str(table)} AND active`);
  return rows.map((r) => r.id);
}

/** The one value of a one-row, one-column query, as text. */
export async function scalar(client: ClickHouseClient, query: string): Promise<string> {
  const rs = await client.query({ query, format: 'TabSeparated' });
  return (await rs.text()).trim();
}
