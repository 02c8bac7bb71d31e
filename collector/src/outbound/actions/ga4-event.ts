// A stage's GA4 event: the Measurement Protocol request the GA4 part sends
// (same endpoint, secret and 72-hour limit: ga4/sender.ts), with the event
// configured for the stage.
//   {"client_id":"…","timestamp_micros":<the entry's time>,
//    "events":[{"name":"qualify_lead","params":{…configured…,"deal_stage":"2 Qualified","value":2499.9,"currency":"RUB"}}]}
// `value` and `currency` only when the deal has an amount when it enters.
import type { Ga4Config } from '../../config.js';
import { ga4Sender } from '../ga4/sender.js';
import type { Sender } from '../sender.js';
import { GA4_EVENT } from './plan.js';

export type StageEvent = {
  clientId: string;
  /** The entry's time, unix seconds. */
  eventAt: number;
  name: string;
  params: Record<string, unknown>;
  stage: string;
  amountMinor: number;
  currency: string;
};

export function stageEventBody(e: StageEvent): string {
  const money = e.amountMinor > 0 ? { value: e.amountMinor / 100, currency: e.currency } : {};
  return JSON.stringify({
    client_id: e.clientId,
    timestamp_micros: e.eventAt * 1_000_000,
    events: [{ name: e.name, params: { ...e.params, deal_stage: e.stage, ...money } }],
  });
}

/** GA4's sender under a name of its own: the stage events stay out of the GA4 part's ledger. */
export function ga4EventSender(cfg: Ga4Config): Sender {
  return { ...ga4Sender(cfg), name: GA4_EVENT };
}
