// The demo's CRM: a stand-in of amoCRM behind the thank-you page. "Send to the
// CRM" adds the form's lead to the demo pipeline's first status, and amoCRM's
// webhook carries it to the collector; "Mark as won" moves it to amoCRM's won
// status (142) with a price, and the webhook of that change follows. Each page
// shows the webhook as sent and Throughline's answer, then the way on: the
// report, where the visitor's own visit now brings that money to its channel.
//
// Forms and pages only (no script): the lead's fields ride along in a hidden
// field from one page to the next, as a CRM keeps them with the lead.
import { randomInt } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { DEMO_AMO } from '../collector/src/sample/demo-crm.js';
import { esc, htmlDocument } from '../collector/src/web/html.js';
import { amoWebhook, readable, type AmoLead } from './amocrm.js';

export type CrmStandIn = {
  /** The collector as the visitor's browser reaches it (the link to the report). */
  publicCollectorUrl: string;
  /** The account the leads go to, whose webhooks reach the collector. */
  account: DemoAmoAccount;
  /** The vendors' stand-ins are on: the won page links to what Throughline sent out. */
  sentOut: boolean;
};

/** The won amount the form offers (whole units, as amoCRM's price). */
const DEFAULT_PRICE = '25000';

const CSS = `main{max-width:52rem}pre{background:#f4f4f4;padding:8px;overflow:auto;white-space:pre-wrap}
button{font-size:1rem;padding:6px 14px}.note{color:#555}`;

function page(res: Response, status: number, title: string, body: string): void {
  res.status(status).type('html').send(htmlDocument({ lang: 'en', title, body: `<main>${body}</main>`, css: CSS }));
}

/** A form field's value as text: a field sent more than once (checkboxes) is its values joined. */
const asText = (v: unknown): string | null =>
  typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(', ') : null;

/** The lead's fields from the hidden field that carries them: names and values as text, or null. */
function fieldsOf(raw: unknown): Record<string, string> | null {
  if (typeof raw !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const text = asText(v);
    if (text === null) return null;
    fields[k] = text;
  }
  return fields;
}

/** The lead's name in the CRM, as a call-back request is named. */
const leadName = (fields: Record<string, string>) => `Call back: ${fields.name || fields.phone || 'a visitor'}`;

/** The thank-you page's offer: the received fields, ready to go to the CRM. */
export function sendForm(fields: Record<string, unknown>): string {
  return `<form id="send" method="post" action="/crm/send">
<input type="hidden" name="fields" value="${esc(JSON.stringify(fields))}">
<p class="note">In this demo the CRM is a stand-in of amoCRM: it adds the lead to its pipeline and sends Throughline amoCRM's webhook.</p>
<button type="submit">Send to the CRM</button>
</form>`;
}

/**
 * The demo's amoCRM account: the leads it holds (in memory, for the demo's
 * life) and the webhooks it sends the collector, as amoCRM does on every change.
 */
export class DemoAmoAccount {
  /** The leads by id, as the account holds them now. */
  readonly leads = new Map<string, AmoLead>();
  private readonly webhookUrl: string;

  constructor(collectorUrl: string, amoSecret: string) {
    this.webhookUrl = `${collectorUrl.replace(/\/$/, '')}/crm/amocrm/${DEMO_AMO.source}/${encodeURIComponent(amoSecret)}`;
  }

  /** Sends a webhook as amoCRM does; the collector's answer, or why there is none. */
  async deliver(body: string): Promise<{ status: number; text: string }> {
    try {
      const res = await fetch(this.webhookUrl, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'amoCRM-WebHook-client/1.0' },
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // shown as it came
      }
      return { status: res.status, text: shown };
    } catch (err) {
      return { status: 0, text: `the collector did not answer: ${(err as Error).message}` };
    }
  }
}

export function crmStandIn(o: CrmStandIn): Router {
  const r = Router();
  const { account } = o;
  const reportUrl = `${o.publicCollectorUrl.replace(/\/$/, '')}/reports`;
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 10 });
  const deliver = (body: string) => account.deliver(body);
  const exchange = (body: string, answer: { status: number; text: string }) => `
<p>amoCRM sent Throughline this webhook (<code>POST /crm/amocrm/${esc(DEMO_AMO.source)}/&lt;secret&gt;</code>, decoded):</p>
<pre id="webhook">${esc(readable(body))}</pre>
<p>Throughline answered <b id="crm-status">${answer.status || 'nothing'}</b>:</p>
<pre id="crm-answer">${esc(answer.text)}</pre>`;

  r.post('/crm/send', form, async (req, res) => {
    const fields = fieldsOf((req.body as Record<string, unknown> | undefined)?.fields);
    if (!fields) return page(res, 400, 'Not sent', '<h1>Not sent</h1><p>The lead\'s fields did not come with the form. <a href="/">Back to the site</a></p>');
    const now = Math.floor(Date.now() / 1000);
    const lead: AmoLead = {
      id: String(randomInt(10_000_000, 100_000_000)),
      name: leadName(fields),
      statusId: DEMO_AMO.firstStatus,
      price: '0',
      created: now,
      modified: now,
      fields,
    };
    account.leads.set(lead.id, lead);
    const body = amoWebhook('add', lead);
    const answer = await deliver(body);
    page(
      res,
      answer.status === 200 ? 200 : 502,
      `Deal ${lead.id}`,
      `<h1>Deal <span id="deal-id">${esc(lead.id)}</span> is in the CRM</h1>
<p>The lead is in the pipeline's first stage, "${esc(DEMO_AMO.statuses[DEMO_AMO.firstStatus]!)}", with the visitor's ids in its fields.</p>
${exchange(body, answer)}
<form id="won" method="post" action="/crm/won">
<input type="hidden" name="deal" value="${esc(lead.id)}">
<input type="hidden" name="created" value="${lead.created}">
<input type="hidden" name="fields" value="${esc(JSON.stringify(fields))}">
<p>The coach called back and sold a package. <label>Amount <input name="price" value="${DEFAULT_PRICE}" inputmode="numeric" pattern="[0-9]{1,9}" required></label></p>
<button type="submit">Mark as won</button>
</form>`,
    );
  });

  r.post('/crm/won', form, async (req, res) => {
    const given = (req.body ?? {}) as Record<string, unknown>;
    const fields = fieldsOf(given.fields);
    const deal = String(given.deal ?? '');
    const created = Number(given.created);
    const price = String(given.price ?? '').trim();
    if (!fields || !/^\d{1,12}$/.test(deal) || !Number.isSafeInteger(created) || !/^\d{1,9}$/.test(price)) {
      return page(res, 400, 'Not sent', '<h1>Not sent</h1><p>The deal, its fields or the amount (whole units, digits only) are missing. <a href="/">Back to the site</a></p>');
    }
    const now = Math.max(Math.floor(Date.now() / 1000), created);
    const was = account.leads.get(deal)?.statusId ?? DEMO_AMO.firstStatus;
    const lead: AmoLead = { id: deal, name: leadName(fields), statusId: DEMO_AMO.won, oldStatusId: was, price, created, modified: now, fields };
    account.leads.set(deal, lead);
    const body = amoWebhook('status', lead);
    const answer = await deliver(body);
    page(
      res,
      answer.status === 200 ? 200 : 502,
      `Deal ${deal} won`,
      `<h1>Deal <span id="deal-id">${esc(deal)}</span> won: <span id="won-amount">${esc(price)}</span></h1>
${exchange(body, answer)}
<p>The report now counts this money for the channel that brought the visit, under every attribution model, within a minute.
Sign in with the reports token <code>npm run demo</code> printed.</p>
<p><a id="report" href="${esc(reportUrl)}">Open the report</a></p>${
        o.sentOut
          ? `\n<p>Throughline also sends the win back: a GA4 purchase for the visitor's GA client id, within a minute. <a id="sent-out" href="/sent-out">What Throughline sent out</a></p>`
          : ''
      }`,
    );
  });
  return r;
}
