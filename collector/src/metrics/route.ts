// GET /metrics: Prometheus text format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './registry.js';

export function metricsHandler(metrics: Metrics) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' }).end(body),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${String(err)}`),
    );
  };
}
