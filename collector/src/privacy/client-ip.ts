// The visitor's IP address. X-Forwarded-For is believed only when the request came
// from a configured proxy (TRUSTED_PROXIES: addresses or CIDR ranges, or the
// names proxy-addr knows: loopback, linklocal, uniquelocal); otherwise anyone
// could claim any address.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type ClientIpResolver = (req: IncomingMessage) => string;

export function clientIpResolver(trustedProxies: string[]): ClientIpResolver {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress ?? '';
  const trust = proxyaddr.compile(trustedProxies);
  return (req) => proxyaddr(req, trust);
}
