// When what a GA4 message reports happened (its timestamp_micros, and the
// 72-hour limit it is held to), read from the deal's stored versions.
import type { DealRow } from '../../crm/deals/store.js';
import { placedUndated } from '../../crm/deals/version.js';

/** Unix seconds of a `YYYY-MM-DD hh:mm:ss` UTC DateTime as read back (NaN for 18.16's zero date). */
const seconds = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`) / 1000;

/**
 * When a version happened: the CRM's time of the change; for a change the CRM
 * does not date (amoCRM's delete webhook), its arrival.
 */
export function changeTime(row: DealRow): number {
  const changed = seconds(row.changed_at);
  return placedUndated(row.version) || !Number.isFinite(changed) ? seconds(row.received_at) : changed;
}

const liveWin = (row: DealRow) => row.outcome === 'won' && row.deleted === 0;

/**
 * When the deal's current win happened (`versions` oldest first, the last one
 * won): the change time of the first version of its newest run of won, live
 * versions. The CRM's own closing date is not used: Zoho's Closing_Date is a
 * day someone planned, not the moment the deal was won.
 */
export function winTime(versions: DealRow[]): number {
  let first = versions.length - 1;
  while (first > 0 && liveWin(versions[first - 1]!)) first -= 1;
  return changeTime(versions[first]!);
}
