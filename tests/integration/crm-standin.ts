// A local HTTP stand-in for a vendor API (amoCRM, Zoho): it answers through a
// handler the test supplies and records every request exactly, so the test can
// assert method, path, headers and body of what Throughline sent.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export type Recorded = { method: string; path: string; headers: IncomingMessage['headers']; body: string };
export type Answer = { status: number; json?: unknown };
export type Handler = (req: Recorded) => Answer;

export type StandIn = {
  url: string;
  requests: Recorded[];
  /** Replaces the handler (each test scenario answers differently). */
  handle(h: Handler): void;
  close(): Promise<void>;
};

export async function startStandIn(initial: Handler): Promise<StandIn> {
  let handler = initial;
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      let a: Answer;
      try {
        a = handler(rec);
      } catch (err) {
        a = { status: 500, json: { error: String(err) } };
      }
      if (a.json === undefined) res.writeHead(a.status).end();
      else res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (h) => (handler = h),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The fields of a request the tests compare exactly (headers the client always varies are left out). */
export function shape(r: Recorded, headers: string[] = ['authorization', 'content-type']): { method: string; path: string; headers: Record<string, string>; body: string } {
  return {
    method: r.method,
    path: r.path,
    headers: Object.fromEntries(headers.filter((h) => r.headers[h] !== undefined).map((h) => [h, String(r.headers[h])])),
    body: r.body,
  };
}
