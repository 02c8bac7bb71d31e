// GET /metrics: Prometheus text format. With METRICS_TOKEN set, only a scraper
// presenting it as `Authorization: Bearer <token>` is answered (compared in
// constant time); the counters tell a competitor a site's traffic.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, sameSecret } from '../http/auth.js';
import type { Metrics } from './registry.js';

const json = (res: ServerResponse, status: number, error: string, extra: Record<string, string> = {}): void =>
  void res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra }).end(JSON.stringify({ error }));

export function metricsHandler(metrics: Metrics, token?: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (token !== undefined && !sameSecret(bearer(req), token)) {
      req.resume();
      json(res, 401, 'unauthorized', { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' }).end(body),
      () => json(res, 500, 'metrics_failed'),
    );
  };
}
