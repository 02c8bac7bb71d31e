// First-party mode for a Node site: the site forwards a path of its own (here
// /_tl/) to the collector's /fp/, so the tracker is loaded from the site, its
// hits and id requests go to the site, and the collector's answers set the
// visitor id and touches as the site's own cookies (README, "First-party
// mode", which gives the same for nginx, Apache, Caddy and PHP). The request
// goes on as it came (method, body, cookies, User-Agent, Origin, Referer), with
// who asked and where: X-Forwarded-For, -Host and -Proto, which the collector
// believes from the addresses in its TRUSTED_PROXIES.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The headers passed on each way; anything else (hop-by-hop, the site's own) stays. */
const TO_COLLECTOR = ['content-type', 'content-length', 'cookie', 'user-agent', 'origin', 'referer', 'sec-ch-ua', 'accept', 'accept-language'];
const TO_BROWSER = ['content-type', 'content-length', 'cache-control', 'set-cookie', 'last-modified', 'etag', 'retry-after'];

/** A handler for requests under the site's path, with `prefix` (e.g. '/_tl') already taken off `req.url`. */
export function forwardToCollector(collectorUrl: string): (req: IncomingMessage, res: ServerResponse) => void {
  const base = new URL('fp/', collectorUrl.replace(/\/?$/, '/'));
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const name of TO_COLLECTOR) if (req.headers[name] !== undefined) headers[name] = req.headers[name]!;
    const peer = req.socket.remoteAddress ?? '';
    const before = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = before ? `${before}, ${peer}` : peer;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const upstream = send(new URL((req.url ?? '/').replace(/^\/+/, ''), base), { method: req.method, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const name of TO_BROWSER) if (answer.headers[name] !== undefined) out[name] = answer.headers[name]!;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  };
}
