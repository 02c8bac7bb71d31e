// Removing the sample: exactly the rows marked as the sample (marks.ts), in each
// table it wrote; every other hit, deal, link and cost stays. The attribution
// tables are derived, and the next identity resolution writes them anew (the
// route asks for one). A delete is a mutation, which ClickHouse runs in the
// background on every version (18.16 knows no mutations_sync): the removal
// waits until each has finished, so that what follows reads without the sample.
import { queryRows, type ClickHouseClient } from '../clickhouse/client.js';
import { ident, str } from '../clickhouse/sql.js';
import { sampleCounts, SAMPLE_ROWS, SAMPLE_TABLES, type SampleTable } from './marks.js';

/** How long the removal waits for its mutations. */
const MUTATIONS_TIMEOUT_MS = 120_000;

/** Removes the sample; gives how many of its records each table held. */
export async function removeSample(client: ClickHouseClient, db: string): Promise<Record<SampleTable, number>> {
  const d = ident(db);
  const had = await sampleCounts(client, db);
  const tables = SAMPLE_TABLES.filter((t) => had[t] > 0);
  for (const t of tables) await client.command({ query: `ALTER TABLE ${d}.${t} DELETE WHERE ${SAMPLE_ROWS[t]}` });
  await mutationsDone(client, db, tables);
  return had;
}

async function mutationsDone(client: ClickHouseClient, db: string, tables: SampleTable[]): Promise<void> {
  if (!tables.length) return;
  const pending = `SELECT count() AS n FROM system.mutations WHERE database = ${str(db)} AND table IN (${tables.map(str).join(', ')}) AND is_done = 0`;
  const until = Date.now() + MUTATIONS_TIMEOUT_MS;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const [row] = await queryRows<{ n: string }>(client, pending);
    if (Number(row?.n) === 0) return;
    if (Date.now() > until) throw new Error(`the sample's deletes have not finished after ${MUTATIONS_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
