// POST /inbound-email/:secret — a notice that an e-mail reached the sales inbox,
// sent by a mail hook (e.g. a Mailgun/Postmark route, a procmail script) or by a
// CRM automation. It carries the recipient(s), the sender and the subject, and
// may name the deal the mail became (`deal: "<source>:<id>"`). The visitor id in
// a plus-address or a subject tag ties the visitor to the sender's address (as a
// keyed hash) and to the deal.
import { Router, type Request, type Response } from 'express';
import { toDateTimeString } from '../clickhouse/sql.js';
import { bodyText, gatedBody, sameSecret, type Gate } from '../crm/auth.js';
import { insertLinks, type LinkRow } from '../crm/deals/store.js';
import { hashEmail } from '../identity/hash.js';
import type { Services } from '../services.js';
import { extractVisitorId } from './visitor-tag.js';

const field = (body: Record<string, unknown>, ...names: string[]): string[] => {
  for (const n of names) {
    const v = body[n];
    if (typeof v === 'string' && v) return v.split(',').map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  }
  return [];
};

/** `Ivan <ivan@mail.ru>` → `ivan@mail.ru`. */
const address = (s: string): string => /<([^>]+)>/.exec(s)?.[1] ?? s;

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
  r.post('/inbound-email/:secret', gatedBody(sender, '256kb'), async (req: Request, res: Response) => {
    const text = bodyText(req);
    let body: Record<string, unknown>;
    try {
      body = text.trimStart().startsWith('{') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
    } catch {
      return void res.status(400).json({ error: 'bad_json', reason: 'the body is not JSON' });
    }
    if (typeof body !== 'object' || body === null) return void res.status(400).json({ error: 'bad_body', reason: 'expected an object' });
    const recipients = field(body, 'recipient', 'to', 'To');
    const sender = address(field(body, 'sender', 'from', 'From')[0] ?? '');
    const subject = field(body, 'subject', 'Subject').join(', ');
    const senderHash = hashEmail(sender, svc.config.identity.key);
    if (!senderHash) return void res.status(400).json({ error: 'bad_sender', reason: 'sender must be an e-mail address' });
    const deal = typeof body.deal === 'string' ? body.deal.trim() : '';
    if (deal && !/^[a-z0-9_-]{1,40}:[A-Za-z0-9_-]{1,100}$/.test(deal)) return void res.status(400).json({ error: 'bad_deal', reason: 'deal must be "<source>:<deal id>"' });
    const visitor = extractVisitorId(recipients.map(address), subject);
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
