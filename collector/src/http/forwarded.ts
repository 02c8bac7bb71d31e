// What a request says of where the browser sent it: the host name and whether
// over HTTPS. Behind a proxy of TRUSTED_PROXIES (the site's own server in
// first-party mode, a TLS terminator) the proxy's X-Forwarded-Host and
// X-Forwarded-Proto say it; from anyone else only the Host header and the
// socket do, since any client could claim a forwarded header.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type Forwarded = {
  /** True when the browser's request came over HTTPS. */
  secure(req: IncomingMessage): boolean;
  /** The host name (no port, lower case) the browser sent the request to; '' when none is known. */
  host(req: IncomingMessage): string;
  /** `http(s)://host[:port]` the browser sent the request to (a default port left out); '' when no well-formed host is known. */
  origin(req: IncomingMessage): string;
};

/** The first value of a header (Host has one). */
const first = (value: string | string[] | undefined): string => String(value ?? '').split(',')[0]!.trim().toLowerCase();

/**
 * The last value of a forwarded header: the one the trusted proxy nearest us
 * wrote. A proxy that appends (Apache's mod_proxy) leaves what the browser
 * sent in front of it.
 */
const last = (value: string | string[] | undefined): string => String(value ?? '').split(',').pop()!.trim().toLowerCase();

/** The host name of a Host header value: `[::1]:8080` → `[::1]`, `shop.example:80` → `shop.example`. */
const hostName = (host: string): string => (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!);

/** A host with its port as a URL may hold it: a name or IPv4, or a bracketed IPv6, and digits after a colon. */
const AUTHORITY = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/;

export function forwarded(trustedProxies: string[]): Forwarded {
  const trust = trustedProxies.length ? proxyaddr.compile(trustedProxies) : null;
  const viaProxy = (req: IncomingMessage) => !!trust && trust(req.socket.remoteAddress ?? '', 0);
  const secure = (req: IncomingMessage) => !!(req.socket as { encrypted?: boolean }).encrypted || (viaProxy(req) && last(req.headers['x-forwarded-proto']) === 'https');
  const authority = (req: IncomingMessage) => (viaProxy(req) && last(req.headers['x-forwarded-host'])) || first(req.headers.host);
  return {
    secure,
    host: (req) => hostName(authority(req)),
    origin: (req) => {
      const a = authority(req);
      const m = AUTHORITY.exec(a);
      if (!m) return '';
      const scheme = secure(req) ? 'https' : 'http';
      const defaultPort = m[1] === (scheme === 'https' ? '443' : '80');
      return `${scheme}://${defaultPort ? hostName(a) : a}`;
    },
  };
}

/** The value of cookie `name` in a Cookie header, if it is there once or more (the first wins). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
