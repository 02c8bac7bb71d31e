// enrich: the hit becomes a full row: UTM tags and click id parsed from the URL
// on the server, the channel (channels/classify.ts), the user agent, the IP hash.
import { toRow } from '../../hits/row.js';
import type { Step } from '../context.js';

export const enrich: Step = (ctx) => {
  ctx.row = toRow(ctx.hit!, ctx.req.receivedAt, {
    userAgent: ctx.req.userAgent,
    ipHash: ctx.ipHash,
    pageHost: ctx.pageHost,
    referrerHost: ctx.referrerHost,
  });
  return undefined;
};
