// The demo site: a small static site that includes the tracker the way a real
// site would, from another origin. Its HTML names the collector through
// {{COLLECTOR_URL}} and {{SITE_ID}}, filled in when a page is served. It also
// forwards /_tl/ to the collector (first-party mode: demo-site/first-party.ts),
// so a page that loads /_tl/t.js runs the tracker as the site's own.
import express from 'express';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../collector/src/paths.js';
import { forwardToCollector } from './first-party.js';

const PUBLIC = join(ROOT, 'demo-site', 'public');

export type DemoSiteOptions = {
  collectorUrl: string;
  siteId: string;
  port: number;
  host?: string;
  /** Extra pages by path (e.g. '/plus.html'), the same placeholders filled: tests use them to try tracker options. */
  pages?: Record<string, string>;
  /** First-party mode: the pages load the tracker from the site's own /_tl/, which forwards to the collector. */
  firstParty?: boolean;
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function startDemoSite(opts: DemoSiteOptions): Promise<Server> {
  const tracker = opts.firstParty ? '/_tl' : opts.collectorUrl.replace(/\/$/, '');
  const fill = (html: string) => html.replaceAll('{{COLLECTOR_URL}}', tracker).replaceAll('{{SITE_ID}}', opts.siteId);
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
  // would receive, hidden Throughline fields included.
  app.post('/thanks.html', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res, next) => {
    try {
      const html = await readFile(join(PUBLIC, 'thanks.html'), 'utf8');
      const received = escapeHtml(JSON.stringify(req.body ?? {}, null, 2));
      res.type('html').send(fill(html).replace('<!--RECEIVED-->', `<h2>What the CRM receives</h2><pre id="received">${received}</pre>`));
    } catch {
      next();
    }
  });
  app.use(express.static(PUBLIC));
  const server = createServer(app);
  return new Promise((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server)));
}

// Run directly: node dist/demo-site/serve.js
if (import.meta.url === `file://${process.argv[1]}`) {
  const collectorUrl = process.env.COLLECTOR_URL ?? 'http://127.0.0.1:8080';
  const port = Number(process.env.DEMO_PORT ?? 8081);
  const siteId = process.env.DEMO_SITE_ID ?? 'demo';
  const firstParty = process.env.DEMO_FIRST_PARTY === '1';
  void startDemoSite({ collectorUrl, siteId, port, firstParty }).then(() => {
    process.stdout.write(`demo site at http://127.0.0.1:${port}/ (collector ${collectorUrl}${firstParty ? ' through /_tl/, first-party mode' : ''}, site ${siteId})\n`);
  });
}
