// GET /admin/outbox (the CRM admin token, Bearer): the outbox as the admin page
// shows it. The senders configured, how many messages are in each state, the
// last sweep, and the newest messages that need a look, each with its reason:
//   pending  waiting to be sent, or to be tried again (`reason`: the last answer)
//   failed   refused by the vendor (4xx): not tried again (`reason`: its answer)
//   tooOld   past the vendor's time limit (GA4: 72 hours): not sent
import { Router } from 'express';
import { admit, adminGate } from '../http/auth.js';
import { requestLog } from '../http/redact.js';
import type { Services } from '../services.js';
import type { Message } from './outbox.js';
import { outboxView } from './page/view.js';

const iso = (s: number) => new Date(s * 1000).toISOString();

function item(m: Message) {
  return {
    id: m.id,
    sender: m.sender,
    subject: m.subject,
    step: m.step,
    event: m.event,
    reference: m.reference,
    recipient: m.recipient,
    // As sent: a refund's value is the amount refunded. Minor units of two digits (crm/money.ts).
    value: Math.abs(m.valueMinor) / 100,
    currency: m.currency,
    eventAt: iso(m.eventAt),
    createdAt: iso(m.createdAt),
    attempts: m.attempts,
    ...(m.state === 'pending' ? { nextAt: iso(m.nextAt) } : {}),
    reason: m.answer,
  };
}

export function outboundRouter(svc: Services): Router {
  const r = Router();
  r.get('/admin/outbox', admit(adminGate(svc.config.crm.adminToken)), async (req, res) => {
    try {
      // The same view the outbox page shows (page/view.ts), as JSON.
      const view = await outboxView(svc.outbound);
      res.set('Cache-Control', 'no-store').json({
        senders: view.senders.map((s) => ({ name: s.name, maxAgeHours: Math.round(s.maxAgeSeconds / 3600) })),
        counts: view.counts,
        sweep: view.sweep && { at: iso(view.sweep.at), looked: view.sweep.looked },
        pending: view.pending.map(item),
        failed: view.failed.map(item),
        tooOld: view.tooOld.map(item),
      });
    } catch (err) {
      svc.log.error(requestLog(req, err), 'outbox not readable');
      res.status(503).json({ error: 'outbox_unavailable', reason: 'the outbox could not be read; try again' });
    }
  });
  return r;
}
