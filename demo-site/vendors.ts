// The vendors Throughline sends to, as the demo plays them: a stand-in of GA4's
// Measurement Protocol (the won deal's purchase arrives here) and of amoCRM's
// API v4 (the site-visit trigger moves a deal here, and the account then sends
// the collector amoCRM's webhook of that change, as amoCRM does). Both keep
// what they received, and /sent-out shows it: the loop closed, in the open.
//
// The collector reaches them through GA4_URL and the amoCRM source's
// api.baseUrl, which scripts/demo.sh points here unless GA4_* are set.
import express, { Router, type Request, type Response } from 'express';
import { DEMO_AMO } from '../collector/src/sample/demo-crm.js';
import { esc, htmlDocument } from '../collector/src/web/html.js';
import { amoWebhook } from './amocrm.js';
import type { DemoAmoAccount } from './crm.js';

/** One request a stand-in received. */
export type Received = { at: string; method: string; path: string; status: number; body: string };

/** The most requests kept per vendor: the oldest go first. */
const KEPT = 200;

export type VendorStandIns = {
  account: DemoAmoAccount;
  /** The access token the amoCRM stand-in takes (the source's api.accessToken). */
  amoToken: string;
};

const CSS = `main{max-width:60rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
pre{margin:0;white-space:pre-wrap;word-break:break-all}.note{color:#555}`;

/** GA4 takes at most this much body (its documented 130 kB request limit). */
const GA4_LIMIT = '130kb';

/** amoCRM's error body for a request it refuses, in its shape (problem+json). */
const amoProblem = (status: number, title: string, detail: string) => ({ title, type: `https://httpstatus.es/${status}`, status, detail });

export function vendorStandIns(o: VendorStandIns): Router {
  const r = Router();
  const ga4: Received[] = [];
  const amo: Received[] = [];
  const keep = (list: Received[], req: Request, status: number, body: string) => {
    list.push({ at: new Date().toISOString(), method: req.method, path: req.originalUrl.replace(/api_secret=[^&]*/, 'api_secret=…'), status, body });
    if (list.length > KEPT) list.shift();
  };

  // GA4: 204 for anything that parses, as the production endpoint answers (it validates nothing).
  r.post('/stand-in/ga4/mp/collect', express.text({ type: '*/*', limit: GA4_LIMIT }), (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    keep(ga4, req, 204, body);
    res.status(204).end();
  });

  const amoApi = Router();
  amoApi.use((req, res, next) => {
    if (req.get('authorization') !== `Bearer ${o.amoToken}`) {
      return void res.status(401).json(amoProblem(401, 'Unauthorized', 'Authorization token is invalid'));
    }
    next();
  });
  amoApi.get('/api/v4/leads/pipelines', (_req, res) => {
    const statuses = Object.entries(DEMO_AMO.statuses).map(([id, name], i) => ({ id: Number(id), name, sort: (i + 1) * 10, pipeline_id: Number(DEMO_AMO.pipeline), type: 0 }));
    res.json({ _embedded: { pipelines: [{ id: Number(DEMO_AMO.pipeline), name: 'Sales', sort: 1, is_main: true, _embedded: { statuses } }] } });
  });
  // Moves: [{id, status_id, pipeline_id}]; a lead the account does not hold is refused, as amoCRM refuses it.
  amoApi.patch('/api/v4/leads', express.text({ type: '*/*', limit: '1mb' }), (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const answer = (status: number, body: unknown) => {
      keep(amo, req, status, raw);
      res.status(status).json(body);
    };
    let moves: unknown;
    try {
      moves = JSON.parse(raw);
    } catch {
      return answer(400, amoProblem(400, 'Bad Request', 'Request body is not valid JSON'));
    }
    if (!Array.isArray(moves) || !moves.length) return answer(400, amoProblem(400, 'Bad Request', 'Request body must be a non-empty array'));
    const known = moves.every((m) => typeof m === 'object' && m !== null && o.account.leads.has(String((m as { id?: unknown }).id)));
    if (!known) return answer(400, amoProblem(400, 'Bad Request', 'Request validation failed: no such lead'));
    const now = Math.floor(Date.now() / 1000);
    const changed = [];
    for (const m of moves as { id: number; status_id?: number; pipeline_id?: number }[]) {
      const lead = o.account.leads.get(String(m.id))!;
      const next = { ...lead, statusId: String(m.status_id ?? lead.statusId), oldStatusId: lead.statusId, modified: Math.max(now, lead.modified) };
      o.account.leads.set(next.id, next);
      changed.push(next);
    }
    answer(200, { _links: { self: { href: '/api/v4/leads' } }, _embedded: { leads: changed.map((l) => ({ id: Number(l.id), updated_at: l.modified })) } });
    // amoCRM then tells its webhooks of each status change.
    for (const lead of changed) void o.account.deliver(amoWebhook('status', lead));
  });
  r.use('/stand-in/amocrm', amoApi);

  r.get('/sent-out', (_req, res: Response) => {
    const rows = (list: Received[], id: string) =>
      list.length
        ? `<table id="${id}"><tr><th>When (UTC)</th><th>Request</th><th>Answer</th><th>Body</th></tr>${[...list]
            .reverse()
            .map((x) => `<tr><td>${esc(x.at)}</td><td>${esc(`${x.method} ${x.path}`)}</td><td>${x.status}</td><td><pre class="body">${esc(x.body)}</pre></td></tr>`)
            .join('')}</table>`
        : `<p id="${id}" class="note">Nothing yet.</p>`;
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(
        htmlDocument({
          lang: 'en',
          title: 'What Throughline sent out',
          css: CSS,
          body: `<main><h1>What Throughline sent out</h1>
<p class="note">The demo's stand-ins of the vendors record what the collector sent them (README, "Sending outcomes back").</p>
<h2>GA4 Measurement Protocol</h2>
<p class="note">A won deal is a <code>purchase</code> for the visitor's GA client id (the <code>_ga</code> cookie); a later change, an adjustment or a refund.</p>
${rows(ga4, 'ga4')}
<h2>amoCRM API</h2>
<p class="note">A visit to <a href="/prices.html">the prices page</a> by a visitor with an open deal moves the deal to "${esc(DEMO_AMO.statuses[DEMO_AMO.proposal]!)}" (the site-visit trigger); amoCRM's webhook of that move comes back to Throughline.</p>
${rows(amo, 'amocrm')}
<p><a href="/">Back to the site</a></p></main>`,
        }),
      );
  });
  return r;
}

/**
 * Stands in for Google Analytics' gtag.js on the demo's pages: it sets the
 * `_ga` cookie as gtag.js does (GA1.1.<random>.<first visit>), from which the
 * tracker reads the GA client id that GA4 purchases are sent for.
 */
export const GTAG_STAND_IN = `<script>/(^|; )_ga=/.test(document.cookie)||(document.cookie="_ga=GA1.1."+(1+Math.floor(Math.random()*2147483646))+"."+Math.floor(Date.now()/1e3)+";path=/;max-age=63072000;samesite=lax")</script>`;
