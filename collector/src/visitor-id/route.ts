// GET /vid — a new visitor id, as text/plain ("AB12CD"). The tracker asks once
// per browser and keeps the answer in a first-party cookie. A simple GET without
// custom headers draws no CORS preflight; Access-Control-Allow-Origin lets the
// tracker on any site read the answer. Never cached: every call is a new id.
import type { RequestHandler } from 'express';
import type { Services } from '../services.js';
import { IdSpaceExhausted, issueVisitorId } from './issue.js';

export function visitorIdHandler(svc: Services): RequestHandler {
  return async (_req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    try {
      const id = await issueVisitorId(svc.redis);
      res.type('text/plain').send(id);
    } catch (err) {
      const reason = err instanceof IdSpaceExhausted ? 'visitor_id_collisions' : 'redis_unavailable';
      svc.log.warn({ err: String(err) }, 'visitor id not issued');
      res.status(503).json({ error: reason });
    }
  };
}
