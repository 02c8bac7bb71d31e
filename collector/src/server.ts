// The collector's HTTP server: a plain node:http server that answers the hot
// routes itself and hands everything else to the Express app.
//
// Slow clients are bounded (HTTP_* variables): a client has HTTP_HEADERS_TIMEOUT
// seconds for its headers and HTTP_REQUEST_TIMEOUT for its whole request, or it
// is answered 408 and cut; an idle keep-alive connection lives
// HTTP_KEEP_ALIVE_TIMEOUT; past HTTP_MAX_CONNECTIONS a new connection is dropped
// at once. Node checks the two request timers every connectionsCheckingInterval
// (30 s by default, which would let a trickler outlive its limit by that much).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createApp } from './app.js';
import { failed, hitHandler, leadHandler, pixelHandler } from './hits/route.js';
import { clientErrorHandler } from './http/errors.js';
import { metricsHandler } from './metrics/route.js';
import type { Services } from './services.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** How often the header and request timers are checked, at most. */
const CHECK_EVERY_MS = 1000;

export function createCollectorServer(svc: Services): Server {
  const app = createApp(svc);
  const hot = new Map<string, Handler>([
    ['/hit', hitHandler(svc)],
    ['/lead', leadHandler(svc)],
    ['/p.gif', pixelHandler(svc)],
    // The same, through the site's own server (first-party mode): the answers set the cookies.
    ['/fp/hit', hitHandler(svc, true)],
    ['/fp/lead', leadHandler(svc, true)],
    ['/fp/p.gif', pixelHandler(svc, true)],
    ['/metrics', metricsHandler(svc.ingest.metrics, svc.config.http.metricsToken)],
  ]);
  const limits = svc.config.http;
  const headersTimeout = limits.headersTimeoutSeconds * 1000;
  const requestTimeout = limits.requestTimeoutSeconds * 1000;
  const server = createServer(
    { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, headersTimeout) },
    (req, res) => {
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
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutSeconds * 1000;
  server.maxConnections = limits.maxConnections;
  // One line per 10 s while connections are dropped, not one per connection.
  let dropped = 0;
  let warned = 0;
  server.on('drop', () => {
    dropped++;
    if (Date.now() - warned < 10_000) return;
    warned = Date.now();
    svc.log.warn({ dropped, maxConnections: limits.maxConnections }, 'connections dropped at HTTP_MAX_CONNECTIONS');
  });
  server.on('clientError', clientErrorHandler(svc.log));
  return server;
}
