// The demo site: a small static site that includes the tracker the way a real
// site would, from another origin. Its HTML names the collector through
// {{COLLECTOR_URL}} and {{SITE_ID}}, filled in when a page is served.
import express from 'express';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../collector/src/paths.js';

const PUBLIC = join(ROOT, 'demo-site', 'public');

export type DemoSiteOptions = { collectorUrl: string; siteId: string; port: number; host?: string };

export function startDemoSite(opts: DemoSiteOptions): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get(['/', /\.html$/], async (req, res, next) => {
    const file = req.path === '/' ? 'index.html' : req.path.slice(1);
    if (!/^[a-z0-9-]+\.html$/.test(file)) return next();
    try {
      const html = await readFile(join(PUBLIC, file), 'utf8');
      res
        .type('html')
        .send(html.replaceAll('{{COLLECTOR_URL}}', opts.collectorUrl.replace(/\/$/, '')).replaceAll('{{SITE_ID}}', opts.siteId));
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
  void startDemoSite({ collectorUrl, siteId, port }).then(() => {
    process.stdout.write(`demo site at http://127.0.0.1:${port}/ (collector ${collectorUrl}, site ${siteId})\n`);
  });
}
