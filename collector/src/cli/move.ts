// Moves an installation from the embedded engine to a ClickHouse server:
//   npm run move -- --to http://host:8123 [--to-database NAME] [--user U --password P] [--append]
// The embedded data is found through the collector's variables (CLICKHOUSE_DATA,
// CLICKHOUSE_DATABASE); the collector must be stopped, since one process at a
// time may open that directory. On the server the collector's own migrations
// and analyst views make the schema; then every table that holds data of its
// own is copied (move-tables.ts says which, and in what format), and the rows
// on both sides are counted.
//
// Each table is copied into a staging table beside it (CREATE TABLE … AS) and
// its partitions are then attached to the real one (ATTACH PARTITION … FROM),
// which 18.16 and current servers both do:
//   - attaching does not run the materialized view on hits (hit_ids_mv), so
//     hit_ids, copied as a table, is not filled a second time from the copied hits;
//   - a move that fails while copying leaves the server's tables as they were
//     (staging tables are dropped, and a new run drops what a killed one left).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { finished } from 'node:stream/promises';
import { installViews, viewStatements } from '../attribution/views.js';
import { connect, EMBEDDED, portableSettings, queryRows, serverVersion, type ClickHouseClient } from '../clickhouse/client.js';
import { loadMigrations, migrate } from '../clickhouse/migrate.js';
import { ident, str } from '../clickhouse/sql.js';
import { storedIdentityKey } from '../identity/key.js';
import { loadCliConfig } from './config.js';
import {
  columnMismatch,
  DERIVED,
  foldsRows,
  isView,
  keptRows,
  keysOfBoth,
  listTables,
  migrationObjects,
  partitionIds,
  pieces,
  scalar,
  SCHEMA_MIGRATIONS,
  storedColumns,
  type TableInfo,
} from './move-tables.js';
import { terminalLines } from './terminal.js';

const USAGE = `usage: npm run move -- --to http://host:8123 [--to-database NAME] [--user USER] [--password PASSWORD] [--append] [--piece-rows N]
  Copies the embedded installation (CLICKHOUSE_DATA, CLICKHOUSE_DATABASE) to a ClickHouse server. Stop the collector first.
  --to-database  the server's database (default: CLICKHOUSE_DATABASE)
  --user, --password  the server's credentials (default: CLICKHOUSE_USER, CLICKHOUSE_PASSWORD)
  --append       copy into tables that already hold rows (their rows are kept, the copied ones added)
  --piece-rows   the most rows read at once (default 1000000; a piece also stays under 32 MiB)`;

/** The uncompressed size a piece stays under: the embedded engine holds a whole result in memory. */
const PIECE_BYTES = 32 * 1024 * 1024;
const STAGING_PREFIX = 'move_staging_';
/** How long to wait for the embedded data's unfinished mutations (ALTER … DELETE) before copying. */
const MUTATIONS_WAIT_MS = 60_000;

const say = (text: string) => process.stderr.write(terminalLines(text));
const out = (text: string) => process.stdout.write(terminalLines(text));
const fmt = (n: number) => n.toLocaleString('en-US');

class Refusal extends Error {}

type Args = { to: string; toDatabase?: string; user?: string; password?: string; append: boolean; pieceRows: number };

function parse(): Args | { help: true } | { usage: string } {
  let parsed;
  try {
    parsed = parseArgs({
      tokens: true,
      options: {
        to: { type: 'string' },
        'to-database': { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        append: { type: 'boolean' },
        'piece-rows': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return { usage: (err as Error).message };
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) return { usage: `--${t.name} is given twice` };
    seen.add(t.name);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (!v.to) return { usage: '--to is required' };
  let url: URL;
  try {
    url = new URL(v.to);
  } catch {
    return { usage: `--to must be a ClickHouse server's URL, such as http://127.0.0.1:8123` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { usage: `--to must be a ClickHouse server's http:// or https:// URL` };
  if (v['to-database'] !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v['to-database'])) return { usage: '--to-database: letters, digits and _ only' };
  const pieceRows = v['piece-rows'] === undefined ? 1_000_000 : Number(v['piece-rows']);
  if (!Number.isInteger(pieceRows) || pieceRows < 1 || pieceRows > 100_000_000) return { usage: '--piece-rows: a whole number from 1 to 100000000' };
  return { to: v.to, toDatabase: v['to-database'], user: v.user, password: v.password, append: v.append ?? false, pieceRows };
}

/** A URL to print: without credentials written into it. */
function shown(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}

async function main(): Promise<number> {
  const args = parse();
  if ('usage' in args) {
    say(`${args.usage}\n${USAGE}\n`);
    return 64;
  }
  if ('help' in args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadCliConfig(say);
  if (!config) return 78;
  const { database, data } = config.clickhouse;
  const toDatabase = args.toDatabase ?? database;
  // The engine would make an empty directory where none is: a wrong path must not look like an empty installation.
  if (!existsSync(join(data, 'metadata'))) {
    say(`there is no embedded ClickHouse data in ${data}: set CLICKHOUSE_DATA to the collector's data directory\n`);
    return 78;
  }

  let source: ClickHouseClient;
  try {
    source = connect({ url: EMBEDDED, data, user: 'default', password: '', database }, null);
  } catch (err) {
    // It names the process that holds the data (a running collector) when it can.
    say(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const target = { url: args.to, user: args.user ?? config.clickhouse.user, password: args.password ?? config.clickhouse.password, database: toDatabase };
  let server: ClickHouseClient | undefined;
  try {
    if ((await scalar(source, `SELECT count() FROM system.databases WHERE name = ${str(database)}`)) === '0') {
      say(`the embedded data in ${data} has no database ${database}: set CLICKHOUSE_DATABASE to the collector's database\n`);
      return 78;
    }
    const probe = connect(target, null);
    const ping = await probe.ping();
    if (!ping.success) {
      await probe.close();
      throw new Refusal(`the ClickHouse server at ${shown(args.to)} does not answer: ${ping.error.message}`);
    }
    const settings = await portableSettings(probe);
    await probe.close();
    server = connect(target, null, settings);
    return await move(source, server, { ...args, database, data, toDatabase, windowDays: config.reports.windowDays, money: config.money });
  } catch (err) {
    if (err instanceof Refusal) {
      say(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await source.close();
    await server?.close();
  }
}

type Plan = Args & { database: string; data: string; toDatabase: string; windowDays: number; money: Parameters<typeof installViews>[3] };

type Copy = {
  table: string;
  source: TableInfo;
  target: TableInfo;
  staging: string;
  columns: string;
  /** Rows the source holds as ClickHouse keeps them (move-tables.ts keptRows). */
  sourceKept: number;
  /** The same on the server before the copy (--append). */
  before: number;
  /** A condition on the source's rows, when some are not to be copied. */
  only?: string;
  rows: number;
  pieces: number;
  staged: number;
};

async function move(source: ClickHouseClient, server: ClickHouseClient, plan: Plan): Promise<number> {
  const db = ident(plan.database);
  const tdb = ident(plan.toDatabase);
  const [fromVersion, toVersion] = [await serverVersion(source), await serverVersion(server)];
  out(
    `moving database ${db}\n  from the embedded ClickHouse ${fromVersion} in ${plan.data}\n  to   ClickHouse ${toVersion} at ${shown(plan.to)}, database ${tdb}\n`,
  );

  // The embedded data gets this version's schema first, as the collector would
  // at its next start, so that both sides have the same tables and columns.
  const migrations = await loadMigrations();
  const upgraded = await migrate(source, plan.database, migrations);
  if (upgraded.length) out(`the embedded data's schema was brought up to this version first (migrations ${upgraded.join(', ')}), as the collector does at start\n`);
  const known = migrationObjects(migrations);
  const analystViews = new Set(viewStatements(plan.database, plan.windowDays, plan.money).map((v) => v.name.slice(db.length + 1)));
  const sourceTables = await listTables(source, plan.database);
  const copied = [...sourceTables.values()].filter((t) => !isView(t) && known.tables.has(t.name) && t.name !== SCHEMA_MIGRATIONS && !DERIVED.has(t.name));
  const foreign = [...sourceTables.keys()].filter((n) => !known.tables.has(n) && !known.views.has(n) && !analystViews.has(n));

  // Refusals come before anything is written on the server.
  const existing = await listTables(server, plan.toDatabase);
  const held: string[] = [];
  for (const t of copied) {
    const there = existing.get(t.name);
    if (!there || isView(there)) continue;
    const n = Number(await scalar(server, `SELECT count() FROM ${tdb}.${ident(t.name)}`));
    if (n > 0) held.push(`${t.name} (${fmt(n)} rows)`);
  }
  const sourceKey = await earliestKey(source, db);
  const serverKey = existing.has('identity_key') ? await earliestKey(server, tdb) : null;
  if (held.length && !plan.append) {
    throw new Refusal(
      `the server's database ${tdb} already holds rows: ${held.join(', ')}.\n` +
        `Nothing was copied. Move into a new or empty database (--to-database, or drop this one), or add --append to add the copied rows to these.`,
    );
  }
  if (sourceKey && serverKey && sourceKey !== serverKey) {
    throw new Refusal(
      `the server's database ${tdb} has an identity key of its own (a collector was started on it), unlike the embedded installation's: ` +
        `e-mail and phone hashes made under one would never match those made under the other. Nothing was copied. ` +
        `Move into a new database (--to-database, or drop this one).`,
    );
  }

  await migrate(server, plan.toDatabase, migrations);
  await installViews(server, plan.toDatabase, plan.windowDays, plan.money);
  out(`schema: made on the server by the collector's migrations and analyst views\n`);
  if (plan.append && held.length) {
    out(
      `--append: the copied rows are added to those the server holds (${held.join(', ')}). ` +
        `Tables that keep one row per key fold a key present on both sides into one row as they merge (the newer version wins where the table has versions); ` +
        `the identity key is not copied again when the server has it.\n`,
    );
  }
  const serverTables = await listTables(server, plan.toDatabase);

  // Nothing changes in the embedded data from here on: a pending ALTER … DELETE
  // finishes first (its rows must not be copied), then merges stop, so the parts
  // the pieces name stay as they are.
  await waitForMutations(source, plan.database);
  for (const t of copied) await source.command({ query: `SYSTEM STOP MERGES ${db}.${ident(t.name)}` });

  const copies: Copy[] = [];
  for (const t of copied) {
    const there = serverTables.get(t.name);
    if (!there) throw new Refusal(`${t.name} is in the embedded data but the migrations did not make it on the server`);
    const columns = await storedColumns(source, plan.database, t.name);
    const mismatch = columnMismatch(t.name, columns, await storedColumns(server, plan.toDatabase, t.name));
    if (mismatch) throw new Refusal(`cannot copy ${mismatch}. Nothing was copied.`);
    const only = t.name === 'identity_key' && serverKey ? `key != ${str(serverKey)}` : undefined;
    copies.push({
      table: t.name,
      source: t,
      target: there,
      staging: `${STAGING_PREFIX}${t.name}`,
      columns: columns.map((c) => ident(c.name)).join(', '),
      sourceKept: await keptRows(source, plan.database, t),
      before: plan.append ? await keptRows(server, plan.toDatabase, there) : 0,
      only,
      rows: 0,
      pieces: 0,
      staged: 0,
    });
  }

  out(`copying (RowBinary, pieces of at most ${fmt(plan.pieceRows)} rows and ${PIECE_BYTES / 1024 / 1024} MiB):\n`);
  const width = Math.max(...copies.map((c) => c.table.length), 10);
  let attaching = false;
  try {
    for (const c of copies) {
      await stage(source, server, db, tdb, c, plan.pieceRows);
      out(`  ${c.table.padEnd(width)} ${fmt(c.rows).padStart(13)} ${c.rows === 1 ? 'row' : 'rows'}${c.pieces > 1 ? ` in ${fmt(c.pieces)} pieces` : ''}\n`);
    }
    const derived = [...DERIVED].filter((n) => sourceTables.has(n));
    const views = [...sourceTables.values()].filter((t) => isView(t) && !foreign.includes(t.name));
    out(
      `not copied:\n  ${SCHEMA_MIGRATIONS}: the server's own (the migrations ran there)\n` +
        (derived.length ? `  ${derived.join(', ')}: derived; the server's first report resolves identities and writes them again\n` : '') +
        (views.length ? `  ${views.map((t) => (t.engine === 'MaterializedView' ? `${t.name} (materialized; its table is copied)` : t.name)).join(', ')}: views, made on the server by the migrations and the analyst views\n` : '') +
        (foreign.length ? `  ${foreign.join(', ')}: not the collector's; left in the embedded data (make them on the server if you need them)\n` : ''),
    );

    // Each staging table holds the whole table now: check it before the real table changes.
    const short = copies.filter((c) => c.staged !== (c.only ? c.rows : c.sourceKept));
    if (short.length) {
      throw new Refusal(
        `the copy is incomplete, so nothing was added to the server's tables: ${short.map((c) => `${c.table} ${fmt(c.staged)} of ${fmt(c.only ? c.rows : c.sourceKept)}`).join(', ')}`,
      );
    }
    const expected = new Map<string, number>();
    for (const c of copies) {
      expected.set(c.table, !foldsRows(c.target) ? c.before + c.staged : plan.append ? await keysOfBoth(server, tdb, c.target, c.table, c.staging) : c.staged);
    }
    attaching = true;
    for (const c of copies) {
      for (const id of await partitionIds(server, plan.toDatabase, c.staging)) {
        await server.command({ query: `ALTER TABLE ${tdb}.${ident(c.table)} ATTACH PARTITION ID ${str(id)} FROM ${tdb}.${ident(c.staging)}` });
      }
      await server.command({ query: `DROP TABLE IF EXISTS ${tdb}.${ident(c.staging)}` });
    }
    attaching = false;

    out(`check (rows as ClickHouse keeps them: one per key in tables that fold repeated keys):\n`);
    let bad = 0;
    for (const c of copies) {
      const now = await keptRows(server, plan.toDatabase, c.target);
      const want = expected.get(c.table)!;
      // On a fresh database the server must hold what the embedded data holds; with --append, that plus what it held.
      const ok = now === want && (plan.append || now === c.sourceKept);
      if (!ok) bad++;
      const was = plan.append ? ` (${fmt(c.before)} before)` : '';
      out(`  ${c.table.padEnd(width)} embedded ${fmt(c.sourceKept).padStart(13)}   server ${fmt(now).padStart(13)}${was}${ok ? '' : `   MISMATCH: expected ${fmt(want)}`}\n`);
    }
    if (bad) {
      say(`the server's counts differ from the embedded data's in ${bad} table(s): see above. Drop the server's database ${tdb} and move again (the embedded data is still there).\n`);
      return 1;
    }
  } catch (err) {
    if (attaching) say(`the move stopped while attaching the copied rows: the server's database ${tdb} may hold part of them. Drop it and move again.\n`);
    else if (!(err instanceof Refusal)) say(`nothing was added to the server's tables; the move can run again.\n`);
    throw err;
  } finally {
    for (const c of copies) await server.command({ query: `DROP TABLE IF EXISTS ${tdb}.${ident(c.staging)}` }).catch(() => {});
  }
  out(
    `moved. Start the collector on the server: CLICKHOUSE_URL=${shown(plan.to)} CLICKHOUSE_DATABASE=${tdb} (and its credentials). ` +
      `Its first report resolves identities again from the copied data. The embedded data in ${plan.data} is still there${upgraded.length ? '' : ', as it was'}.\n`,
  );
  return 0;
}

/** Copies one table into its staging table on the server, a piece at a time. */
async function stage(source: ClickHouseClient, server: ClickHouseClient, db: string, tdb: string, c: Copy, pieceRows: number): Promise<void> {
  const staging = `${tdb}.${ident(c.staging)}`;
  await server.command({ query: `DROP TABLE IF EXISTS ${staging}` });
  await server.command({ query: `CREATE TABLE ${staging} AS ${tdb}.${ident(c.table)}` });
  const from = `${db}.${ident(c.table)}`;
  for (const piece of await pieces(source, db, c.table, pieceRows, PIECE_BYTES)) {
    const where = c.only ? `(${piece}) AND (${c.only})` : piece;
    const n = Number(await scalar(source, `SELECT count() FROM ${from} WHERE ${where}`));
    if (n === 0) continue;
    const rows = await source.exec({ query: `SELECT ${c.columns} FROM ${from} WHERE ${where} FORMAT RowBinary` });
    const done = await server.exec({ query: `INSERT INTO ${staging} (${c.columns}) FORMAT RowBinary`, values: rows.stream });
    done.stream.resume();
    await finished(done.stream);
    c.rows += n;
    c.pieces++;
  }
  c.staged = await keptRows(server, tdb, c.target, c.staging);
}

/** The installation's identity key as the collector reads it, or null (none, or no table). */
const earliestKey = (client: ClickHouseClient, db: string) => storedIdentityKey(client, db).catch(() => null);

async function waitForMutations(client: ClickHouseClient, db: string): Promise<void> {
  const until = Date.now() + MUTATIONS_WAIT_MS;
  for (;;) {
    const pending = await queryRows<{ table: string; command: string }>(client, `SELECT table, command FROM system.mutations WHERE database = ${str(db)} AND NOT is_done`);
    if (!pending.length) return;
    if (Date.now() > until) {
      say(`warning: these mutations of the embedded data have not finished; the rows they would change are copied as they are: ${pending.map((m) => `${m.table}: ${m.command}`).join('; ')}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`move failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
