// The page visits the trigger looks at: hits of kind `visit`, by when they
// reached the collector (received_at: the server's clock, not the visitor's),
// read in pages ordered by that time and the event id, so a scan can go on
// where a page ended. Only what the decision needs is read (the ids and the
// URL), and only the visits whose URL may match a rule (pattern.ts
// sqlPathRegex); the exact match is made in Node.
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { num, str } from '../../clickhouse/sql.js';

/** A page visit, as the trigger reads it. `at`: when it reached the collector (unix seconds). */
export type Visit = { eventId: string; at: number; visitorId: string; gaCid: string; ymUid: string; url: string };

/**
 * A visit whose own time (the visitor's clock) is older than this when it
 * arrives is a replay or a backfill of past visits (HIT_MAX_AGE_DAYS), not a
 * visit happening now: it moves nothing. A day leaves room for clocks set wrong.
 */
export const STALE_VISIT_SECONDS = 86_400;

/**
 * A time as ClickHouse compares it with a DateTime column: unix seconds through
 * toDateTime (18.16 fails a string literal against the partition key, `ts`, with
 * "Value of type String in memory is not of fixed size").
 */
const at = (s: number) => `toDateTime(${num(Math.floor(s))})`;

type Raw = { event_id: string; at: number | string; visitor_id: string; ga_cid: string; ym_uid: string; url: string };

export type VisitPage = {
  /** From (inclusive) and to (inclusive), unix seconds of received_at. */
  from: number;
  to: number;
  /** Continue after this visit (the last of the page before). */
  after: { at: number; eventId: string } | null;
  /** The RE2 narrowing of the URL (null: every visit). */
  urlRegex: string | null;
  limit: number;
};

/** One page of visits carrying an id the identity graph can use, in (received_at, event_id) order; a retried insert read once. */
export async function readVisits(ch: ClickHouseClient, p: VisitPage): Promise<Visit[]> {
  const where = [
    `kind = 'visit'`,
    `received_at >= ${at(p.from)}`,
    `received_at <= ${at(p.to)}`,
    // The month partitions of hits are by the visitor's time: this bound lets the scan skip old ones.
    `ts >= ${at(p.from - STALE_VISIT_SECONDS)}`,
    `ts >= received_at - ${num(STALE_VISIT_SECONDS)}`,
    `(visitor_id != '' OR ga_cid != '' OR ym_uid != '')`,
  ];
  if (p.urlRegex !== null) where.push(`match(url, ${str(p.urlRegex)})`);
  if (p.after) where.push(`(received_at > ${at(p.after.at)} OR (received_at = ${at(p.after.at)} AND event_id > ${str(p.after.eventId)}))`);
  const rows = await queryRows<Raw>(
    ch,
    `SELECT event_id, toUInt32(received_at) AS at, visitor_id, ga_cid, ym_uid, url FROM hits
     WHERE ${where.join(' AND ')}
     ORDER BY received_at, event_id LIMIT 1 BY event_id LIMIT ${num(p.limit)}`,
  );
  return rows.map((r) => ({ eventId: r.event_id, at: Number(r.at), visitorId: r.visitor_id, gaCid: r.ga_cid, ymUid: r.ym_uid, url: r.url }));
}
