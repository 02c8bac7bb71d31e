// GA4's Measurement Protocol: what a message's request is, and how it is sent.
//   POST {GA4_URL}/mp/collect?measurement_id=…&api_secret=…
//   {"client_id": "…", "timestamp_micros": …, "events": [{"name": "purchase" | "refund",
//     "params": {"transaction_id": "…", "value": 12.5, "currency": "RUB"}}]}
// GA4 takes an event at most 72 hours after it happened: the message is sent
// with the time of the deal's change, and one older than that is not sent.
import type { Ga4Config } from '../../config.js';
import { postJson, type Sender } from '../sender.js';

export const GA4 = 'ga4';
export const GA4_VENDOR = 'GA4';

/** GA4's 72 hours, less 5 minutes for clocks that differ and the request's way there. */
export const GA4_MAX_AGE_SECONDS = 72 * 3600 - 300;

/** How long GA4 has to answer before the message is tried again. */
const TIMEOUT_MS = 10_000;

/** A ledger message as GA4 reads it. Money is stored in minor units of two digits (crm/money.ts): value = minor / 100. */
export type Ga4Event = { clientId: string; eventAt: number; event: 'purchase' | 'refund'; transactionId: string; valueMinor: number; currency: string };

/** The request body; a refund's value is the amount refunded (positive). */
export function measurementBody(e: Ga4Event): string {
  return JSON.stringify({
    client_id: e.clientId,
    timestamp_micros: e.eventAt * 1_000_000,
    events: [{ name: e.event, params: { transaction_id: e.transactionId, value: Math.abs(e.valueMinor) / 100, currency: e.currency } }],
  });
}

export function ga4Sender(cfg: Ga4Config): Sender {
  const url = `${cfg.url}/mp/collect?${new URLSearchParams({ measurement_id: cfg.measurementId, api_secret: cfg.apiSecret })}`;
  return { name: GA4, vendor: GA4_VENDOR, maxAgeSeconds: GA4_MAX_AGE_SECONDS, send: (m) => postJson(url, m.body, TIMEOUT_MS) };
}
