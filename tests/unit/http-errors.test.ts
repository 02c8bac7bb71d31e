// Error answers (collector/src/http/errors.ts) on a real node:http server: a
// reason and nothing else, as JSON, or as a small page at the report page.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerError } from '../../collector/src/http/errors.js';

describe('error answers', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('Content-Disposition', 'attachment; filename="report.csv"');
      answerError(req, res, 500, 'internal_error');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('12. answers JSON with the reason, without the headers of the answer the route meant to give', async () => {
    const r = await fetch(`${base}/api/reports/channels?format=csv`);
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('content-disposition')).toBeNull();
    expect(await r.json()).toEqual({ error: 'internal_error' });
  });

  it('12. answers the report page with a small HTML page naming the reason', async () => {
    const r = await fetch(`${base}/reports?token=x`);
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toMatch(/<h1>500 Internal Server Error<\/h1><p>internal_error<\/p>/);
    expect(html).not.toMatch(/\bat |\/work\/|node_modules/);
  });
});
