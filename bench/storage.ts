// Storage benchmark: how many bytes a stored hit takes on disk, and how many it
// takes in the journal and the spool while ClickHouse cannot take it.
// Generates BENCH_HITS (1 million) hits shaped like a shop's traffic, makes each
// row with the collector's own code (hits/row.ts: toRow, hitTsv), inserts them
// as the collector does (spill/tables.ts: insertStream, TabSeparated, batches of
// 50,000 rows, BATCH_MAX_ROWS's default) into a database of its own
// (tl_ops_<pid>, made by the collector's migrations, so the hit_ids view runs
// too), merges every table (OPTIMIZE … FINAL: what a long-running installation
// converges to), reads system.parts and system.columns, and drops the database.
//   npm run build && node dist/bench/storage.js
//   CLICKHOUSE_URL=embedded node dist/bench/storage.js   (the embedded engine, in a temporary directory)
// Figures go to BENCHMARKS.md ("Storage") and docs/operations.md ("Sizing").
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALPHABET } from '../contract/ids.js';
import { EMBEDDED, connect, queryRows, serverVersion } from '../collector/src/clickhouse/client.js';
import { migrate } from '../collector/src/clickhouse/migrate.js';
import { hitTsv, toRow } from '../collector/src/hits/row.js';
import { NO_DROPS, NO_PROPS, type HitInput, type HitKind } from '../collector/src/hits/wire.js';
import { insertStream } from '../collector/src/spill/tables.js';

const HITS = Number(process.env.BENCH_HITS ?? 1_000_000);
const BATCH = 50_000;
const DB = `tl_ops_${process.pid}`;
const START = Date.UTC(2026, 2, 1);
const DAYS = 30;
const url = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
const embedded = url === EMBEDDED;
const data = embedded ? mkdtempSync(join(tmpdir(), 'tl-bench-storage-')) : undefined;
const cfg = { url, user: process.env.CLICKHOUSE_USER || 'default', password: process.env.CLICKHOUSE_PASSWORD || '', database: DB, data };

/** A seeded generator (mulberry32): the same hits on every run and engine. */
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pickOf = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + int(9) : int(10))).join('');
const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

// Browsers of 2026 as they name themselves; a visitor keeps one.
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 YaBrowser/25.10.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 YaBrowser/25.10.2.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
];
const CATEGORIES = ['phones', 'laptops', 'tablets', 'headphones', 'watches', 'cameras', 'tv', 'audio', 'gaming', 'accessories'];
const SITE = 'https://shop.example';

/** How a visit arrives: [share in %, referrer, query string of the landing]. */
const ARRIVALS: [number, () => string, () => string][] = [
  [30, () => '', () => ''],
  [20, () => 'https://www.google.com/', () => ''],
  [12, () => 'https://yandex.ru/', () => ''],
  [14, () => 'https://yandex.ru/', () => `?utm_source=yandex&utm_medium=cpc&utm_campaign=brand_${int(40)}&utm_term=${pickOf(CATEGORIES)}&yclid=${digits(17)}`],
  [6, () => 'https://www.google.com/', () => `?gclid=${hex(String(rand()), 40)}${hex(String(rand()), 30)}`],
  [8, () => 'https://vk.com/', () => `?utm_source=vk&utm_medium=cpc&utm_campaign=retarget_${int(20)}&utm_content=banner_${int(8)}`],
  [5, () => '', () => `?utm_source=newsletter&utm_medium=email&utm_campaign=2026-03-${String(1 + int(28)).padStart(2, '0')}`],
  [5, () => `https://blog${int(50)}.example.org/post/${digits(4)}`, () => ''],
];
const arrivalBag = ARRIVALS.flatMap((a, i) => Array<number>(a[0]).fill(i));

function page(): string {
  const r = rand();
  const cat = pickOf(CATEGORIES);
  if (r < 0.15) return `${SITE}/`;
  if (r < 0.4) return `${SITE}/catalog/${cat}${rand() < 0.3 ? `?page=${2 + int(9)}&sort=price` : ''}`;
  if (r < 0.85) return `${SITE}/catalog/${cat}/${digits(6)}`;
  if (r < 0.93) return `${SITE}/cart`;
  return `${SITE}/blog/how-to-choose-${cat}-${digits(2)}`;
}

type Visitor = { id: string; ga: string; ym: string; agent: string };
const VISITORS = Math.max(1, Math.round(HITS / 4));
const visitors = new Map<number, Visitor>();
function visitor(n: number): Visitor {
  let v = visitors.get(n);
  if (!v) {
    const id = Array.from({ length: 6 }, () => ALPHABET[int(ALPHABET.length)]).join('');
    const ga = rand() < 0.6 ? `${digits(9)}.${1_700_000_000 + int(80_000_000)}` : '';
    const ym = rand() < 0.5 ? `${1_700_000_000 + int(80_000_000)}${digits(9)}` : '';
    visitors.set(n, (v = { id, ga, ym, agent: pickOf(AGENTS) }));
  }
  return v;
}

/**
 * The hits in time order, a visit at a time: a visitor lands (its referrer and
 * campaign), looks at 1–7 pages about a minute apart; 2% of visits send a form
 * (a lead with the form's id, name and an e-mail hash), 1% click a tel: link.
 */
function* hits(): Generator<{ hit: HitInput; agent: string; ip: string; at: number }> {
  const visits = Math.ceil(HITS / 4);
  let made = 0;
  for (let i = 0; made < HITS; i++) {
    const at = START + Math.floor((i / visits) * DAYS * 86_400_000);
    const v = visitor(int(VISITORS));
    const ip = hex(`${v.id}:${Math.floor(at / 86_400_000)}`, 32);
    const arrival = ARRIVALS[arrivalBag[int(arrivalBag.length)]!]!;
    let referrer = arrival[1]();
    let where = page().split('?')[0]! + arrival[2]();
    const pages = 1 + int(7);
    const ending: HitKind | null = rand() < 0.02 ? 'lead' : rand() < 0.01 ? 'tel' : null;
    for (let p = 0; p < pages + (ending ? 1 : 0) && made < HITS; p++, made++) {
      const kind: HitKind = p < pages ? 'visit' : ending!;
      const props =
        kind === 'lead'
          ? { id: 'order-form', name: 'Order', email_hash: hex(`mail:${v.id}`, 64) }
          : kind === 'tel'
            ? { phone_hash: hex('tel:+74951234567', 64) }
            : NO_PROPS;
      const ts = at + p * (20_000 + int(100_000));
      const hit: HitInput = {
        siteId: 'shop', kind, eventId: `${String(rand()).slice(2)}${ts}`, clientTs: ts, url: where, referrer,
        gaCid: v.ga, ymUid: v.ym, visitorId: v.id, props, automated: false, dropped: NO_DROPS,
      };
      yield { hit, agent: v.agent, ip, at: ts };
      referrer = where;
      where = page();
    }
  }
}

type Part = { table: string; parts: string; rows: string; disk: string; compressed: string; uncompressed: string };
type Column = { name: string; compressed: string; uncompressed: string };

async function main(): Promise<void> {
  const admin = connect(cfg, null);
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await migrate(admin, DB);
  const ch = connect(cfg, DB, {}, 600_000);
  console.log(`ClickHouse ${await serverVersion(ch)}, ${embedded ? `embedded, data in ${data}` : `server at ${url}`}, database ${DB}`);
  let tsvBytes = 0;
  let batch: string[] = [];
  const flush = async () => {
    const body = Buffer.from(batch.join('\n') + '\n');
    tsvBytes += body.length;
    await insertStream(ch, 'hits.tsv', body, 600_000);
    batch = [];
  };
  const t0 = performance.now();
  for (const h of hits()) {
    batch.push(hitTsv(toRow(h.hit, h.at + 300, { userAgent: h.agent, ipHash: h.ip })));
    if (batch.length === BATCH) await flush();
  }
  if (batch.length) await flush();
  console.log(`inserted ${HITS} hits in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${tsvBytes} bytes of TabSeparated rows (${(tsvBytes / HITS).toFixed(0)} bytes per hit)`);
  const parts = (label: string) =>
    queryRows<Part>(
      ch,
      `SELECT table, toString(count()) AS parts, toString(sum(rows)) AS rows, toString(sum(bytes_on_disk)) AS disk,
              toString(sum(data_compressed_bytes)) AS compressed, toString(sum(data_uncompressed_bytes)) AS uncompressed
       FROM system.parts WHERE database = '${DB}' AND active GROUP BY table ORDER BY table`,
    ).then((rows) => {
      console.log(label);
      for (const r of rows) {
        const perHit = (x: string) => (Number(x) / HITS).toFixed(1);
        console.log(
          `  ${r.table}: ${r.parts} parts, ${r.rows} rows, ${r.disk} bytes on disk (${perHit(r.disk)} per hit), ` +
            `compressed ${r.compressed} (${perHit(r.compressed)} per hit), uncompressed ${r.uncompressed} (${perHit(r.uncompressed)} per hit)`,
        );
      }
    });
  await parts('as inserted:');
  for (const table of ['hits', 'hit_ids']) await ch.command({ query: `OPTIMIZE TABLE ${DB}.${table} FINAL` });
  await parts('merged (OPTIMIZE … FINAL):');
  const columns = await queryRows<Column>(
    ch,
    `SELECT name, toString(data_compressed_bytes) AS compressed, toString(data_uncompressed_bytes) AS uncompressed
     FROM system.columns WHERE database = '${DB}' AND table = 'hits' ORDER BY data_compressed_bytes DESC`,
  );
  console.log('hits, by column (compressed bytes per hit, uncompressed per hit):');
  for (const c of columns) console.log(`  ${c.name}: ${(Number(c.compressed) / HITS).toFixed(2)}, ${(Number(c.uncompressed) / HITS).toFixed(2)}`);
  await ch.close();
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await admin.close();
  if (data) rmSync(data, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
