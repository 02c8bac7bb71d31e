// POST /inbound-email/:secret — an e-mail that reached the sales inbox, posted
// by a mail service as it posts every e-mail (Mailgun routes, SendGrid Inbound
// Parse, Postmark inbound: JSON, urlencoded or multipart/form-data, attachments
// ignored), by a mail hook (procmail) or by a CRM automation (`recipient`,
// `sender`, `subject` and optionally `deal: "<source>:<id>"`, the deal the mail
// became). The visitor id in a recipient's plus-address or a subject tag ties
// the visitor to the sender's address (as a keyed hash) and to the deal.
import { Router, type Request, type Response } from 'express';
import { toDateTimeString } from '../clickhouse/sql.js';
import { admit, sameSecret, type Gate } from '../http/auth.js';
import { insertLinks, type LinkRow } from '../crm/deals/store.js';
import { hashEmail } from '../identity/hash.js';
import type { Services } from '../services.js';
import { mailBody } from './body.js';
import { readMail } from './message.js';
import { chooseVisitor, visitorCandidates } from './tag.js';

/** The post as fields: form fields as they came, a JSON object, or urlencoded text. */
function fieldsOf(req: Request): Record<string, unknown> | null {
  if (typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) return req.body as Record<string, unknown>;
  const text = typeof req.body === 'string' ? req.body : '';
  if (!text.trimStart().startsWith('{')) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function inboundEmailRouter(svc: Services): Router {
  const r = Router();
  // The secret is checked before the body is read.
  const sender: Gate = (req, res) => {
    const secret = svc.crm.options.inboundEmailSecret;
    if (!secret) res.status(403).json({ error: 'inbound_email_disabled', reason: 'set INBOUND_EMAIL_SECRET' });
    else if (!sameSecret(String(req.params.secret), secret)) res.status(401).json({ error: 'bad_secret' });
    else return true;
    return false;
  };
  r.post('/inbound-email/:secret', admit(sender), mailBody(), async (req: Request, res: Response) => {
    const body = fieldsOf(req);
    if (!body) return void res.status(400).json({ error: 'bad_json', reason: 'the body is not a JSON object' });
    const mail = readMail(body);
    const senderHash = hashEmail(mail.from, svc.config.identity.key);
    if (!senderHash) return void res.status(400).json({ error: 'bad_sender', reason: 'no e-mail address in From (or sender)' });
    const deal = typeof body.deal === 'string' ? body.deal.trim() : '';
    if (deal && !/^[a-z0-9_-]{1,40}:[A-Za-z0-9_-]{1,100}$/.test(deal)) return void res.status(400).json({ error: 'bad_deal', reason: 'deal must be "<source>:<deal id>"' });
    const visitor = await chooseVisitor(svc.redis, visitorCandidates(mail.recipients, mail.subject));
    const at = toDateTimeString(Date.now());
    const links: LinkRow[] = [];
    const link = (kind_a: LinkRow['kind_a'], id_a: string, kind_b: LinkRow['kind_b'], id_b: string) =>
      links.push({ kind_a, id_a, kind_b, id_b, evidence: 'inbound_email', linked_at: at });
    if (visitor) link('visitor', visitor, 'email', senderHash);
    if (deal) {
      link('deal', deal, 'email', senderHash);
      if (visitor) link('deal', deal, 'visitor', visitor);
    }
    try {
      await insertLinks(svc.clickhouse, links);
    } catch (err) {
      svc.log.error({ err: String(err) }, 'inbound e-mail links not stored');
      return void res.status(503).json({ error: 'storage_unavailable' });
    }
    if (links.length) svc.resolver.request(); // a new link can tie a visitor to a deal
    res.status(200).json({ visitor_id: visitor, links: links.length });
  });
  return r;
}
