// The report from a terminal: the same computation as the HTTP API and the page.
//   npm run report -- --model linear --from 2026-03-01 --to 2026-03-31 --group channel --format csv
// ClickHouse is found through the collector's variables (CLICKHOUSE_URL, CLICKHOUSE_DATABASE, …).
// A command runs once, so it has no later report to serve from a background
// refresh: it waits for a resolution of the data as it is now, unless told
// --stale-ok (then it answers from the newest one at once, and finishes the
// refresh it started before exiting). Which resolution it used goes to the
// table's head, the JSON, or stderr beside CSV. The flags follow the rules of
// the HTTP parameters (reports/options.ts): each at most once, the same dates.
// What is meant for people (the table, messages; CSV and JSON too when they go
// to a terminal) is stripped of control characters (terminal.ts).
import { parseArgs } from 'node:util';
import { Resolver } from '../attribution/resolver.js';
import { buildReport } from '../reports/build.js';
import { formatCount, formatMinor, formatUnconverted, reportCsv, resolutionNote } from '../reports/format.js';
import { onceEach, parseReportOptions, REPORT_PARAMS } from '../reports/options.js';
import { connect, portableSettings } from '../clickhouse/client.js';
import { loadCliConfig } from './config.js';
import { terminalLines, terminalText } from './terminal.js';

const USAGE = `usage: npm run report -- [--model M] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--group channel|source|campaign|month] [--window DAYS] [--format table|csv|json] [--stale-ok]`;

const say = (text: string) => process.stderr.write(terminalLines(text));
const FLAGS = [...REPORT_PARAMS, 'format', 'stale-ok', 'help'];

async function main(): Promise<number> {
  let args;
  try {
    const parsed = parseArgs({
      tokens: true,
      options: {
        model: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        group: { type: 'string' },
        window: { type: 'string' },
        format: { type: 'string', default: 'table' },
        'stale-ok': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    const given = onceEach(
      parsed.tokens.flatMap((t) => (t.kind === 'option' ? [[t.name, t.value ?? ''] as [string, string]] : [])),
      FLAGS,
    );
    if ('error' in given) throw new Error(`--${given.error}`);
    args = parsed.values;
  } catch (err) {
    say(`${(err as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!['table', 'csv', 'json'].includes(args.format ?? '')) {
    say(`--format must be table, csv or json\n${USAGE}\n`);
    return 64;
  }
  const config = loadCliConfig(say);
  if (!config) return 78;
  const { model, from, to, group, window } = args;
  const parsed = parseReportOptions({ model, from, to, group, window }, config.reports.windowDays);
  if ('error' in parsed) {
    say(`${parsed.error}\n${USAGE}\n`);
    return 64;
  }
  const probe = connect(config.clickhouse);
  const settings = await portableSettings(probe);
  await probe.close();
  const client = connect(config.clickhouse, config.clickhouse.database, settings);
  const resolver = new Resolver(client, config.clickhouse.database, {
    maxAgeSeconds: config.reports.maxAgeSeconds,
    onError: (err) => say(`identity resolution failed: ${err instanceof Error ? err.message : String(err)}\n`),
  });
  try {
    const r = await buildReport(resolver, parsed.options, !args['stale-ok'], config.money);
    // CSV and JSON are data for files and programs, kept exact unless they go to a terminal.
    const data = (text: string) => process.stdout.write(process.stdout.isTTY ? terminalLines(text) : text);
    if (args.format === 'json') data(`${JSON.stringify(r, null, 2)}\n`);
    else if (args.format === 'csv') {
      data(reportCsv(r));
      say(`${resolutionNote(r.resolution)}\n`);
    } else {
      process.stdout.write(`${r.modelLabel}; deals created ${r.period.from ?? 'any time'} – ${r.period.to ?? 'now'}; look-back ${r.windowDays} days; money in ${r.currency}\n`);
      process.stdout.write(`${resolutionNote(r.resolution)}\n`);
      const lines = [...r.rows, r.totals].map((x): Record<string, string | number> => ({
        [r.group]: terminalText(x.key),
        visits: x.visits,
        leads: formatCount(x.leads),
        deals: formatCount(x.deals),
        won: formatCount(x.won),
        revenue: formatMinor(x.revenue_minor),
        cost: formatMinor(x.cost_minor),
        roi: formatCount(x.roi),
        // Money with no rate into the report currency: in none of the figures, so shown beside them.
        ...(r.totals.unconverted.length ? { unconverted: terminalText(formatUnconverted(x)) } : {}),
      }));
      const cols = Object.keys(lines[0] ?? {});
      const width = cols.map((c) => Math.max(c.length, ...lines.map((l) => String(l[c]).length)));
      const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
      process.stdout.write(`${fmt(cols)}\n${lines.map((l) => fmt(cols.map((c) => String(l[c])))).join('\n')}\n`);
    }
    return 0;
  } finally {
    await resolver.close();
    await client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`report failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
