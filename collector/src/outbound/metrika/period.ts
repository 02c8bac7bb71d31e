// The offline conversions of a period, for the admin's download and upload:
// one line per deal won in the period (its win: ga4/times.ts winTime, in UTC
// days from `from` to `to`, both included) that has a Metrika ClientID, priced
// at the deal's amount as it stands. A deal won and then lost, returned or
// deleted is not a conversion, so only deals whose current version is won and
// live are read. The demo's sample deals are never anyone's conversions. Lines are in time order (then by deal), so the same data
// gives the same file, byte for byte.
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { dateTime, toDateTimeString } from '../../clickhouse/sql.js';
import { dealHistories, type DealRow } from '../../crm/deals/store.js';
import { winTime } from '../ga4/times.js';
import { NOT_SAMPLE_DEAL } from '../part.js';
import { metrikaClientIds, subjectOfRow } from './client-ids.js';
import { conversionLine } from './conversions.js';
import { NO_METRIKA_ID } from './deal-planner.js';

/** UTC days `YYYY-MM-DD`, both included. */
export type Period = { from: string; to: string };

export type PeriodLine = { subject: string; at: number; line: string };

/** The period's lines, and how many won deals were left out, by reason. */
export type PeriodConversions = { lines: PeriodLine[]; skipped: Record<string, number> };

const DAY = 86_400;
/** Deal ids per read of their histories. */
const DEALS_PER_READ = 1000;

const dayStart = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;

export async function periodConversions(ch: ClickHouseClient, period: Period, goal: string, now = Math.floor(Date.now() / 1000)): Promise<PeriodConversions> {
  const start = dayStart(period.from);
  const end = dayStart(period.to) + DAY;
  // A win is no later than the newest version's time (the CRM's, or its arrival for an undated change): deals
  // last changed before the period cannot have been won in it.
  const keys = await queryRows<{ source: string; deal_id: string }>(
    ch,
    `SELECT source, deal_id FROM deals WHERE ${NOT_SAMPLE_DEAL} GROUP BY source, deal_id
     HAVING argMax(outcome, version) = 'won' AND argMax(deleted, version) = 0
       AND max(greatest(changed_at, received_at)) >= ${dateTime(toDateTimeString(start * 1000))}`,
  );
  const bySource = new Map<string, string[]>();
  for (const k of keys) bySource.set(k.source, [...(bySource.get(k.source) ?? []), k.deal_id]);
  const won: { row: DealRow; at: number }[] = [];
  for (const [source, ids] of bySource) {
    for (let i = 0; i < ids.length; i += DEALS_PER_READ) {
      for (const versions of (await dealHistories(ch, source, ids.slice(i, i + DEALS_PER_READ))).values()) {
        const row = versions[versions.length - 1]!;
        if (row.outcome !== 'won' || row.deleted !== 0) continue;
        // Metrika takes conversions dated in the past only.
        const at = Math.min(now, winTime(versions));
        if (at >= start && at < end) won.push({ row, at });
      }
    }
  }
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const ids = won.length ? await metrikaClientIds(ch, won.map((w) => w.row)) : new Map<string, string>();
  const lines: PeriodLine[] = [];
  for (const { row, at } of won) {
    const subject = subjectOfRow(row);
    const clientId = ids.get(subject);
    if (!clientId) {
      skip(NO_METRIKA_ID);
      continue;
    }
    const made = conversionLine({ clientId, goal, at, amountMinor: row.amount_minor, currency: row.currency });
    if ('refused' in made) skip(made.refused);
    else lines.push({ subject, at, line: made.line });
  }
  lines.sort((a, b) => a.at - b.at || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  return { lines, skipped };
}
