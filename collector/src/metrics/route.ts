// GET /metrics: Prometheus text format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './registry.js';

export function metricsHandler(metrics: Metrics) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' }).end(body);
  };
}
