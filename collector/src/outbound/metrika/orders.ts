// A deal as a Metrika CDP order (the "simple orders" upload, CSV):
//   id,client_ids,create_date_time,update_date_time,order_status,revenue
//   amo:10701093,133591247640966458,2026-03-02 13:39:12,2026-03-02 13:41:07,PAID,2499.90
// One order per deal, its id the deal's `<source>:<deal_id>`: Metrika keeps an
// order per id, and each upload (merge_mode=SAVE) replaces what it held for the
// id, so every message carries the order's whole state.
//
// Metrika links an order to visits by the customer's ClientID, e-mails or
// phones (plain, or MD5 of the plain value). Throughline never keeps plain
// e-mails and phones, only keyed hashes of them (identity/hash.ts), which are
// neither: the file has the ClientID alone, and a deal without one is not sent.
// No cost column (the deal has none) and no currency column: the revenue is the
// deal's amount as it stands.
//
// Times are in the counter's time zone, `yyyy-MM-dd HH:mm:ss` (Metrika's CSV
// date format); the creation time must never change once sent.
import { majorUnits } from './money.js';
import { isClientId } from './rules.js';

export const ORDERS_HEADER = 'id,client_ids,create_date_time,update_date_time,order_status,revenue';

export type OrderStatus = 'IN_PROGRESS' | 'PAID' | 'CANCELLED' | 'SPAM' | 'OTHER';

/** Metrika's order status of each funnel marker (crm/funnel): a deleted deal is cancelled whatever its marker. */
const STATUS_OF: Record<string, OrderStatus> = { open: 'IN_PROGRESS', won: 'PAID', lost: 'CANCELLED', returned: 'CANCELLED', paused: 'OTHER' };

export function orderStatus(outcome: string, deleted: boolean): OrderStatus {
  return deleted ? 'CANCELLED' : (STATUS_OF[outcome] ?? 'OTHER');
}

/** Why an order is not sent. */
export type OrderRefusal = 'bad_order_id' | 'bad_client_id' | 'bad_time' | 'absurd_amount';

/** One state of an order: times in unix seconds, the amount in minor units. */
export type Order = { id: string; clientId: string; createdAt: number; updatedAt: number; status: OrderStatus; amountMinor: number };

/** The longest order id sent (a source id is at most 40 characters, an imported deal id 100). */
const ID_MAX = 200;

/** Characters no order id may hold: controls (a line break would split the row) and lone surrogates (not UTF-8). */
const unsafeId = (id: string) => id === '' || id.length > ID_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(id) || !id.isWellFormed();

/** A CSV field: quoted when it holds a comma or a quote, quotes doubled (RFC 4180). */
const field = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

const formats = new Map<string, Intl.DateTimeFormat>();

/** `seconds` as `yyyy-MM-dd HH:mm:ss` on the clock of `timeZone`. */
export function localDateTime(seconds: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(seconds * 1000)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The order's line of the file, or why it cannot be one. A negative amount is sent as 0. */
export function orderLine(o: Order, timeZone: string): { line: string } | { refused: OrderRefusal } {
  if (unsafeId(o.id)) return { refused: 'bad_order_id' };
  if (!isClientId(o.clientId)) return { refused: 'bad_client_id' };
  // Metrika takes no date before 1970; 2106 is where a DateTime column ends.
  const okTime = (s: number) => Number.isSafeInteger(s) && s > 0 && s < 4_294_967_296;
  if (!okTime(o.createdAt) || !okTime(o.updatedAt)) return { refused: 'bad_time' };
  const revenue = majorUnits(Math.max(0, o.amountMinor));
  if (revenue === null) return { refused: 'absurd_amount' };
  return { line: [field(o.id), o.clientId, localDateTime(o.createdAt, timeZone), localDateTime(o.updatedAt, timeZone), o.status, revenue].join(',') };
}

/** The file of one order: the header and its line. */
export const ordersCsv = (line: string): string => `${ORDERS_HEADER}\n${line}\n`;
