// enrich: the hit becomes a full row: UTM tags and click id parsed from the URL
// on the server, the channel (channels/classify.ts), the user agent, the IP hash.
// The URL and referrer are stored with their personal values redacted
// (privacy/url.ts); the UTM tags and click id are read before, and kept.
import { toRow } from '../../hits/row.js';
import type { Step } from '../context.js';
import { DEFAULT_REDACTOR } from '../../privacy/url.js';

export const enrich: Step = (ctx, deps) => {
  const row = toRow(ctx.hit!, ctx.req.receivedAt, {
    userAgent: ctx.req.userAgent,
    ipHash: ctx.ipHash,
    pageHost: ctx.pageHost,
    referrerHost: ctx.referrerHost,
  });
  const redactor = deps.urlPrivacy ?? DEFAULT_REDACTOR;
  row.url = redactor.redact(row.url);
  if (row.referrer !== '') row.referrer = redactor.redact(row.referrer);
  ctx.row = row;
  return undefined;
};
