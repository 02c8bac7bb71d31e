// The collector's HTTP server: a plain node:http server that answers the hot
// routes itself and hands everything else to the Express app.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createApp } from './app.js';
import { failed, hitHandler, leadHandler, pixelHandler } from './hits/route.js';
import { metricsHandler } from './metrics/route.js';
import type { Services } from './services.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function createCollectorServer(svc: Services): Server {
  const app = createApp(svc);
  const hot = new Map<string, Handler>([
    ['/hit', hitHandler(svc)],
    ['/lead', leadHandler(svc)],
    ['/p.gif', pixelHandler(svc)],
    ['/metrics', metricsHandler(svc.ingest.metrics)],
  ]);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const handler = hot.get(q === -1 ? url : url.slice(0, q));
    if (!handler) {
      app(req, res);
      return;
    }
    try {
      handler(req, res);
    } catch (err) {
      failed(svc, res, err);
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
