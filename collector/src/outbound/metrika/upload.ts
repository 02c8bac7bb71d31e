// Metrika's uploads as the outbox's senders. Both are a CSV file in a
// multipart/form-data field `file`, with the OAuth token in a header:
//   offline conversions  POST {METRIKA_URL}/management/v1/counter/{id}/offline_conversions/upload
//   CDP orders           POST {METRIKA_URL}/cdp/api/v1/counter/{id}/data/simple_orders?merge_mode=SAVE&delimiter_type=COMMA
//   Authorization: OAuth <token>
//   Content-Disposition: form-data; name="file"; filename="conversions.csv"
//   Content-Type: text/csv
// A message's body is the CSV itself; the form is made at each send (fetch's
// FormData: its boundary is new each time, the file's bytes are not).
//
// The token goes in the header only, never in a URL: what is kept of an error
// is its code, and what is kept of an answer has any echo of the token masked.
// Redirects are not followed, so the token goes nowhere but where it was
// configured to.
import type { MetrikaConfig } from '../../config.js';
import type { Message } from '../outbox.js';
import { unanswered, verdictOf, type Sender, type Verdict } from '../sender.js';

export const METRIKA = 'metrika';
export const METRIKA_CDP = 'metrika_cdp';
export const METRIKA_VENDOR = 'Metrika';
export const METRIKA_CDP_VENDOR = 'Metrika CDP';

/**
 * Metrika links an offline conversion to a visit of the last 21 days only: "the
 * conversion tracking period increases gradually to 21 days from the moment the
 * option is enabled" (Yandex Metrica Help, "Transmitting and processing data",
 * yandex.com/support/metrica/data/offline-conversion-data.html; the API's
 * visit_join_threshold tells a counter's current limit). A conversion older than
 * that is not sent (too_old); 5 minutes of margin for clocks and transit.
 */
export const CONVERSION_MAX_AGE_SECONDS = 21 * 86_400 - 300;

/**
 * Metrika documents no age limit for CDP orders (any date from 1970). This bound
 * is Throughline's own: a change older than half a year is not sent, and a
 * message Metrika never takes is not tried for ever.
 */
export const ORDER_MAX_AGE_SECONDS = 180 * 86_400;

/** How long Metrika has to answer an upload before it is tried again (a period's file may be large). */
const TIMEOUT_MS = 30_000;

export const CONVERSIONS_FILE = 'conversions.csv';
export const ORDERS_FILE = 'orders.csv';

export type MetrikaApi = NonNullable<MetrikaConfig['api']>;

export const conversionsUrl = (api: MetrikaApi) => `${api.url}/management/v1/counter/${api.counterId}/offline_conversions/upload`;
export const ordersUrl = (api: MetrikaApi) => `${api.url}/cdp/api/v1/counter/${api.counterId}/data/simple_orders?merge_mode=SAVE&delimiter_type=COMMA`;

/** The request of one upload: `csv` as the form's file. */
export function uploadRequest(token: string, csv: string, filename: string): RequestInit {
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), filename);
  return { method: 'POST', body: form, headers: { Authorization: `OAuth ${token}` }, redirect: 'manual' };
}

/**
 * The CDP answers 200 to a file it will not process, with the reason in the
 * body: `{"uploading": {"api_validation_status": "FAILED", …}}`. That is a
 * refusal of this very file, as a 4xx is.
 */
export function cdpVerdict(status: number, body: string): Verdict {
  const verdict = verdictOf(status, body);
  if (verdict.kind !== 'sent') return verdict;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return verdict;
  }
  const uploading = (parsed as { uploading?: { api_validation_status?: unknown } } | null)?.uploading;
  return uploading?.api_validation_status === 'FAILED' ? { kind: 'failed', answer: `HTTP ${status}: ${body.trim().slice(0, 500)}` } : verdict;
}

/** Posts one upload and judges the answer; no answer within `timeoutMs`, or a network error, is tried again. */
export async function postUpload(url: string, token: string, csv: string, filename: string, timeoutMs = TIMEOUT_MS, judge = verdictOf): Promise<Verdict> {
  let res: Response;
  try {
    res = await fetch(url, { ...uploadRequest(token, csv, filename), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { kind: 'retry', answer: unanswered(err, timeoutMs) };
  }
  const text = await res.text().catch(() => '');
  const verdict = judge(res.status, text);
  return verdict.kind === 'sent' ? verdict : { ...verdict, answer: verdict.answer.split(token).join('[token]') };
}

export function conversionsSender(api: MetrikaApi): Sender {
  const url = conversionsUrl(api);
  return { name: METRIKA, vendor: METRIKA_VENDOR, maxAgeSeconds: CONVERSION_MAX_AGE_SECONDS, send: (m: Message) => postUpload(url, api.token, m.body, CONVERSIONS_FILE) };
}

export function ordersSender(api: MetrikaApi): Sender {
  const url = ordersUrl(api);
  return { name: METRIKA_CDP, vendor: METRIKA_CDP_VENDOR, maxAgeSeconds: ORDER_MAX_AGE_SECONDS, send: (m: Message) => postUpload(url, api.token, m.body, ORDERS_FILE, TIMEOUT_MS, cdpVerdict) };
}
