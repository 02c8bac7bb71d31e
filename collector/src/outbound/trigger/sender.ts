// The amoCRM move: what its request is, and how it is sent.
//   PATCH {api.baseUrl}/api/v4/leads
//   Authorization: Bearer <the source's access token>
//   Content-Type: application/json
//   [{"id":<lead id>,"status_id":<status>,"pipeline_id":<pipeline>}]
// through the source's API client (crm/amocrm/api.ts), which renews the OAuth
// token as its reads do. The answer is judged as every vendor's (sender.ts
// verdictOf): 2xx moved, 5xx / 408 / 429 / no answer tried again, any other 4xx
// refused and not tried again.
import type { Crm } from '../../crm/service.js';
import { ApiError } from '../../crm/oauth/client.js';
import { unanswered, verdictOf, type Sender, type Verdict } from '../sender.js';

export const AMOCRM_MOVE = 'amocrm_move';
export const AMOCRM_VENDOR = 'amoCRM';

/**
 * A move is a reaction to a visit: the manager reads "the client is looking at
 * prices now", and amoCRM may start the stage's own automations (a task, a
 * message to the client). An hour later that is no longer true, and a backlog
 * sent after a long outage would set them all off at once for visits long
 * past; so a move not made within an hour of its visit is not made (too_old).
 */
export const MOVE_MAX_AGE_SECONDS = 3600;

/** The request body: ids as digits written out (a JSON number of any length, never rounded). */
export function moveBody(dealId: string, pipeline: string, status: string): string {
  for (const id of [dealId, pipeline, status]) if (!/^\d{1,20}$/.test(id)) throw new TypeError(`not an amoCRM id: ${JSON.stringify(id)}`);
  return `[{"id":${dealId},"status_id":${status},"pipeline_id":${pipeline}}]`;
}


export function moveSender(crm: Crm): Sender {
  return {
    name: AMOCRM_MOVE,
    vendor: AMOCRM_VENDOR,
    maxAgeSeconds: MOVE_MAX_AGE_SECONDS,
    async send(m): Promise<Verdict> {
      const source = m.subject.slice(0, m.subject.indexOf(':'));
      // The configuration in force now: a source taken away or left without credentials is a refusal, not a retry.
      const src = Object.hasOwn(crm.config.raw.sources, source) ? crm.config.raw.sources[source] : undefined;
      if (!src || src.kind !== 'amocrm') return { kind: 'failed', answer: `not sent: source "${source}" is no longer an amoCRM source` };
      const api = crm.amoApi(source, src);
      if (!api) return { kind: 'failed', answer: `not sent: source "${source}" has no API credentials` };
      try {
        const answer = await api.moveLeads(m.body);
        return verdictOf(answer.status, answer.text);
      } catch (err) {
        // The token could not be renewed: amoCRM's token endpoint answered (a refused refresh token is refused again), or did not.
        if (err instanceof ApiError) return verdictOf(err.status, err.message);
        return { kind: 'retry', answer: unanswered(err) };
      }
    },
  };
}
