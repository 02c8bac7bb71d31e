// A raw IP address is never stored. IP_MODE=hash keeps a keyed hash of it under
// the day's salt (privacy/salt.ts): the same visitor is recognisable within a day
// and unlinkable across days once the salt is gone. IP_MODE=anonymize keeps the
// network only (IPv4 /24, IPv6 /48), as Google Analytics' IP anonymisation does.
import { createHmac } from 'node:crypto';
import ipaddr from 'ipaddr.js';

export function hashIp(ip: string, salt: string): string {
  return createHmac('sha256', salt).update(ip).digest('hex').slice(0, 32);
}

/**
 * hashIp with a small memory of recent addresses under the current salt (a
 * visitor sends several hits from one address). Cleared when the salt changes or
 * the cache fills, so it never outlives the day's salt.
 */
export class IpHasher {
  private salt = '';
  private readonly cache = new Map<string, string>();

  hash(ip: string, salt: string): string {
    if (salt !== this.salt || this.cache.size >= 10_000) {
      this.salt = salt;
      this.cache.clear();
    }
    let h = this.cache.get(ip);
    if (h === undefined) {
      h = hashIp(ip, salt);
      this.cache.set(ip, h);
    }
    return h;
  }
}

export function anonymizeIp(ip: string): string {
  if (!ipaddr.isValid(ip)) return '';
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') {
    const o = (addr as ipaddr.IPv4).octets;
    return `${o[0]}.${o[1]}.${o[2]}.0`;
  }
  const p = (addr as ipaddr.IPv6).parts;
  return `${p[0]!.toString(16)}:${p[1]!.toString(16)}:${p[2]!.toString(16)}::`;
}
