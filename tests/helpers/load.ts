// A steady stream of hits from a few concurrent senders, remembering which event
// ids the collector acknowledged (204). Fault tests compare those ids with what
// ClickHouse holds.
import { randomBytes } from 'node:crypto';
import { ALPHABET } from '../../contract/ids.js';

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * Visitor ids are unique per hit (this process's random first character and a
 * counter, written in the id alphabet: the collector removes any other id):
 * random ids collide now and then, and a visitor's second visit within 10
 * minutes is throttled (answered 204, not stored), which a test comparing
 * acknowledged with stored ids would read as a lost hit.
 */
let visitors = randomBytes(1)[0]! * 31 ** 4;
const nextVisitor = () => {
  let n = visitors++;
  let id = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 31)) id = ALPHABET[n % 31] + id;
  return id;
};

export function visitHit(over: Record<string, unknown> = {}): { id: string; body: string } {
  const id = randomBytes(10).toString('hex');
  const v = nextVisitor();
  const body = JSON.stringify({ s: 'demo', k: 'visit', e: id, t: Date.now(), u: `https://shop.example/p/${id}`, v, ...over });
  return { id, body };
}

export type Load = {
  acked: Set<string>;
  /** Requests that failed or got another status (never acknowledged). */
  failed: () => number;
  stop(): Promise<void>;
};

export function startLoad(url: () => string, concurrency = 8, pauseMs = 2): Load {
  const acked = new Set<string>();
  let failed = 0;
  let running = true;
  const sender = async () => {
    while (running) {
      const { id, body } = visitHit();
      try {
        const r = await fetch(`${url()}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } });
        await r.arrayBuffer();
        if (r.status === 204) acked.add(id);
        else failed++;
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const senders = Array.from({ length: concurrency }, sender);
  return {
    acked,
    failed: () => failed,
    async stop() {
      running = false;
      await Promise.all(senders);
    },
  };
}
