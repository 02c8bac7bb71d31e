// The demo site: a small static site that includes the tracker the way a real
// site would, from another origin. Its HTML names the collector through
// {{COLLECTOR_URL}} and {{SITE_ID}}, filled in when a page is served. It also
// forwards /_tl/ to the collector (first-party mode: demo-site/first-party.ts),
// so a page that loads /_tl/t.js runs the tracker as the site's own. With a CRM
// (`crm`), the thank-you page offers to send the lead to the demo's amoCRM
// stand-in (demo-site/crm.ts), whose webhooks go to the collector.
import express from 'express';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../collector/src/paths.js';
import { esc } from '../collector/src/web/html.js';
import { crmStandIn, DemoAmoAccount, sendForm } from './crm.js';
import { forwardToCollector } from './first-party.js';
import { GTAG_STAND_IN, vendorStandIns } from './vendors.js';

const PUBLIC = join(ROOT, 'demo-site', 'public');

export type DemoSiteOptions = {
  /** The collector as this server reaches it (first-party forwarding, the CRM's webhooks). */
  collectorUrl: string;
  /** The collector as visitors' browsers reach it (the tracker's script, the report link); collectorUrl by default. */
  publicCollectorUrl?: string;
  siteId: string;
  port: number;
  host?: string;
  /** Extra pages by path (e.g. '/plus.html'), the same placeholders filled: tests use them to try tracker options. */
  pages?: Record<string, string>;
  /** First-party mode: the pages load the tracker from the site's own /_tl/, which forwards to the collector. */
  firstParty?: boolean;
  /**
   * The demo's CRM: the amoCRM source's webhook secret ("Send to the CRM" on the
   * thank-you page); with `amoToken`, also the vendors' stand-ins (demo-site/vendors.ts:
   * GA4, the amoCRM API taking that token) and /sent-out.
   */
  crm?: { amoSecret: string; amoToken?: string };
  /** The pages set the `_ga` cookie as Google Analytics' gtag.js does (vendors.ts GTAG_STAND_IN). */
  gtag?: boolean;
};

export function startDemoSite(opts: DemoSiteOptions): Promise<Server> {
  const publicCollectorUrl = opts.publicCollectorUrl ?? opts.collectorUrl;
  const tracker = opts.firstParty ? '/_tl' : publicCollectorUrl.replace(/\/$/, '');
  const gtag = (html: string) => (opts.gtag ? html.replace('</title>', `</title>\n  ${GTAG_STAND_IN}`) : html);
  const fill = (html: string) => gtag(html.replaceAll('{{COLLECTOR_URL}}', tracker).replaceAll('{{SITE_ID}}', opts.siteId));
  const app = express();
  app.disable('x-powered-by');
  const forward = forwardToCollector(opts.collectorUrl);
  app.use('/_tl', (req, res) => forward(req, res));
  app.get(['/', /\.html$/], async (req, res, next) => {
    const extra = opts.pages?.[req.path];
    if (extra !== undefined) return void res.type('html').send(fill(extra));
    const file = req.path === '/' ? 'index.html' : req.path.slice(1);
    if (!/^[a-z0-9-]+\.html$/.test(file)) return next();
    try {
      res.type('html').send(fill(await readFile(join(PUBLIC, file), 'utf8')));
    } catch {
      next();
    }
  });
  // The form posts here: the thank-you page shows what a site-to-CRM integration
  // would receive, hidden Throughline fields included, and with a CRM offers to send it.
  app.post('/thanks.html', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res, next) => {
    try {
      const html = await readFile(join(PUBLIC, 'thanks.html'), 'utf8');
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const received = `<h2>What the CRM receives</h2><pre id="received">${esc(JSON.stringify(fields, null, 2))}</pre>`;
      res.type('html').send(fill(html).replace('<!--RECEIVED-->', received + (opts.crm ? sendForm(fields) : '')));
    } catch {
      next();
    }
  });
  if (opts.crm) {
    const account = new DemoAmoAccount(opts.collectorUrl, opts.crm.amoSecret);
    app.use(crmStandIn({ publicCollectorUrl, account, sentOut: Boolean(opts.crm.amoToken) }));
    if (opts.crm.amoToken) app.use(vendorStandIns({ account, amoToken: opts.crm.amoToken }));
  }
  app.use(express.static(PUBLIC));
  // A body the parsers refused (too large, too many fields, malformed) gets its status and reason, not Express's stack trace page.
  app.use((err: { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = Number.isInteger(err.status) && err.status! >= 400 && err.status! < 500 ? err.status! : 500;
    res.status(status).type('text/plain').send(status === 500 ? 'internal error\n' : `${err.type ?? 'bad request'}\n`);
  });
  const server = createServer(app);
  return new Promise((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server)));
}

// Run directly: node dist/demo-site/serve.js
//   COLLECTOR_URL         the collector as this machine reaches it (http://127.0.0.1:8080)
//   COLLECTOR_PUBLIC_URL  the collector as visitors reach it (COLLECTOR_URL)
//   DEMO_HOST, DEMO_PORT  where the site listens (127.0.0.1, 8081)
//   DEMO_SITE_ID          the tracker's site id (demo); DEMO_FIRST_PARTY=1: first-party mode
//   DEMO_AMO_SECRET       the demo amoCRM source's secret: the thank-you page sends leads to the CRM
//   DEMO_AMO_TOKEN        the amoCRM API stand-in's access token: the vendors' stand-ins and /sent-out on
//   DEMO_GTAG=1           the pages set the _ga cookie as gtag.js does
if (import.meta.url === `file://${process.argv[1]}`) {
  const collectorUrl = process.env.COLLECTOR_URL ?? 'http://127.0.0.1:8080';
  const publicCollectorUrl = process.env.COLLECTOR_PUBLIC_URL || collectorUrl;
  const host = process.env.DEMO_HOST || '127.0.0.1';
  const port = Number(process.env.DEMO_PORT ?? 8081);
  const siteId = process.env.DEMO_SITE_ID ?? 'demo';
  const firstParty = process.env.DEMO_FIRST_PARTY === '1';
  const amoSecret = process.env.DEMO_AMO_SECRET;
  const amoToken = process.env.DEMO_AMO_TOKEN || undefined;
  const gtag = process.env.DEMO_GTAG === '1';
  void startDemoSite({ collectorUrl, publicCollectorUrl, siteId, port, host, firstParty, gtag, crm: amoSecret ? { amoSecret, amoToken } : undefined }).then(() => {
    process.stdout.write(`demo site on ${host}:${port} (collector ${publicCollectorUrl}${firstParty ? ' through /_tl/, first-party mode' : ''}, site ${siteId})\n`);
  });
}
