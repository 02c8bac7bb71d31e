// HTTP spoken by hand over a TCP socket, for requests no well-behaved client
// sends: a Content-Length with no body behind it, a body trickled a byte at a
// time, headers that never end, a request line that is not HTTP.
import { connect, type Socket } from 'node:net';

export type RawAnswer = {
  /** The status of the first answer, or null when none came. */
  status: number | null;
  /** Everything the server sent. */
  text: string;
  /** The answer's body (after the blank line). */
  body: string;
  /** The server closed the connection before `waitMs` was up. */
  closed: boolean;
};

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

export function openSocket(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(hostPort(url));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Sends `head` (and `body`, if any) and collects what comes back until the
 * server closes the connection, or until `waitMs` has passed (then the socket is
 * destroyed). Write errors (the server hung up mid-body) are expected here.
 */
export async function exchange(url: string, head: string, opts: { body?: Buffer | string; waitMs?: number; untilAnswer?: boolean } = {}): Promise<RawAnswer> {
  const s = await openSocket(url);
  let text = '';
  let closed = false;
  s.on('error', () => {});
  s.on('data', (c: Buffer) => (text += c.toString('latin1')));
  const done = new Promise<void>((resolve) => {
    s.once('close', () => {
      closed = true;
      resolve();
    });
    const timer = setTimeout(resolve, opts.waitMs ?? 5000);
    if (opts.untilAnswer) {
      s.on('data', () => {
        if (answerComplete(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  s.write(head);
  if (opts.body !== undefined) s.write(opts.body);
  await done;
  s.destroy();
  return { status: statusOf(text), text, body: bodyOf(text), closed };
}

export function statusOf(text: string): number | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m ? Number(m[1]) : null;
}

export function bodyOf(text: string): string {
  const i = text.indexOf('\r\n\r\n');
  return i === -1 ? '' : text.slice(i + 4);
}

/** A whole answer with a Content-Length has arrived. */
function answerComplete(text: string): boolean {
  const i = text.indexOf('\r\n\r\n');
  if (i === -1) return false;
  const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, i));
  return m ? Buffer.byteLength(text.slice(i + 4), 'latin1') >= Number(m[1]) : false;
}

/** The resident memory of a process, in bytes (Linux): now, or the most it has held (`peak`). */
export async function rssOf(pid: number, peak = false): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = (peak ? /VmHWM:\s+(\d+) kB/ : /VmRSS:\s+(\d+) kB/).exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
