// privacy: the IP address is replaced by a hash under the day's salt, or by its
// network (IP_MODE); the raw address goes no further.
import { anonymizeIp, IpHasher } from '../../privacy/ip.js';
import type { Step } from '../context.js';

const hasher = new IpHasher();

export const privacy: Step = (ctx, deps) => {
  const ip = ctx.req.ip;
  if (ip === '') ctx.ipHash = '';
  else if (deps.ipMode === 'anonymize') ctx.ipHash = anonymizeIp(ip);
  else ctx.ipHash = hasher.hash(ip, deps.salt.current(ctx.req.receivedAt));
  return undefined;
};
