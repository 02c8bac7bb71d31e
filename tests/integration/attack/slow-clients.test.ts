// Slow and greedy clients against the built collector: headers that never end,
// bodies trickled a byte at a time, and more connections than the cap. Each is
// cut by its configured limit; keep-alive connections of well-behaved clients
// (the hit path's benchmark, browsers) keep working.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../helpers/collector.js';
import { collectorPerFile } from '../../helpers/collector-per-file.js';
import { BROWSER_UA, visitHit } from '../../helpers/load.js';
import { openSocket, rssOf } from '../../helpers/raw-http.js';

const HEADERS_SECONDS = 2;
const REQUEST_SECONDS = 4;
const MAX_CONNECTIONS = 40;

/** Resolves with the seconds until the server closed the socket, or null if it still held it after `waitSeconds`. */
function closedWithin(s: Socket, waitSeconds: number): Promise<number | null> {
  const start = Date.now();
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(0);
    const t = setTimeout(() => resolve(null), waitSeconds * 1000);
    s.once('close', () => {
      clearTimeout(t);
      resolve((Date.now() - start) / 1000);
    });
  });
}

/** Writes `text` a byte every `everyMs` until the socket closes. */
function trickle(s: Socket, text: string, everyMs: number): void {
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed || i >= text.length) return clearInterval(t);
    s.write(text[i++]!);
  }, everyMs);
  s.once('close', () => clearInterval(t));
}

describe('slow clients (attack)', () => {
  const file = collectorPerFile(() => ({
    HTTP_HEADERS_TIMEOUT_SECONDS: String(HEADERS_SECONDS),
    HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_SECONDS),
    HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  }));
  let c: RunningCollector;
  beforeAll(() => {
    c = file.c;
  });

  it('5. a client that trickles its headers is cut when the time for the headers is up', async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => openSocket(c.url)));
    for (const s of sockets) {
      s.on('error', () => {});
      trickle(s, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'z'.repeat(500)}\r\n\r\n`, 200);
    }
    const closed = await Promise.all(sockets.map((s) => closedWithin(s, HEADERS_SECONDS + 8)));
    for (const s of sockets) s.destroy();
    for (const seconds of closed) expect(seconds).not.toBeNull();
  });

  it('5. a client that trickles its body is cut when the time for the whole request is up', async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => openSocket(c.url)));
    const { body } = visitHit();
    for (const s of sockets) {
      s.on('error', () => {});
      s.write(`POST /hit HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nUser-Agent: ${BROWSER_UA}\r\nContent-Length: ${body.length}\r\n\r\n`);
      trickle(s, body, 300);
    }
    const closed = await Promise.all(sockets.map((s) => closedWithin(s, REQUEST_SECONDS + 8)));
    for (const s of sockets) s.destroy();
    for (const seconds of closed) {
      expect(seconds).not.toBeNull();
      expect(seconds!).toBeGreaterThanOrEqual(HEADERS_SECONDS);
    }
  });

  it('5. connections past the cap are refused, and many trickling senders keep memory bounded', async () => {
    const before = await rssOf(c.proc.pid!);
    const sockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS * 5 }, () => openSocket(c.url).catch(() => null)));
    const open = sockets.filter((s): s is Socket => s !== null);
    for (const s of open) {
      s.on('error', () => {});
      trickle(s, `POST /hit HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 16000\r\n\r\n${'x'.repeat(16000)}`, 100);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const held = open.filter((s) => !s.destroyed).length;
    const during = await rssOf(c.proc.pid!);
    expect(held).toBeLessThanOrEqual(MAX_CONNECTIONS);
    // The collector still answers once the tricklers are gone.
    const closed = await Promise.all(open.map((s) => closedWithin(s, REQUEST_SECONDS + 8)));
    expect(closed.filter((x) => x === null)).toEqual([]);
    const ok = await fetch(`${c.url}/healthz`);
    expect(ok.status).toBe(200);
    // 200 senders, each announcing 16 KB: what they hold is the connections' own cost, not their bodies.
    expect(during - before).toBeLessThan(MAX_CONNECTIONS * 5 * 16_000 * 4);
  });

  it('5. keep-alive connections keep serving one hit after another', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const seen = new Set<Socket>();
    const send = () =>
      new Promise<number>((resolve, reject) => {
        const { body } = visitHit();
        const req = request(`${c.url}/hit`, { method: 'POST', agent, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('socket', (s: Socket) => seen.add(s));
        req.on('error', reject);
        req.end(body);
      });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await send());
    // A pause shorter than the keep-alive timeout, longer than the time for the headers: the idle connection is kept.
    await new Promise((r) => setTimeout(r, (HEADERS_SECONDS + 1) * 1000));
    statuses.push(await send());
    agent.destroy();
    expect(statuses).toEqual(Array(21).fill(204));
    expect(seen.size).toBe(1);
  });
});
