// contacts: a lead's form e-mail and phone (p.email, p.phone) are replaced by
// keyed hashes (identity/hash.ts) and never stored raw; each hash is linked to
// the visitor's ids in identity_links (evidence `form`), and to each other.
import { toDateTimeString } from '../../clickhouse/sql.js';
import { hashEmail, hashPhone } from '../../identity/hash.js';
import type { IdentityLinkRow, Step } from '../context.js';

export const contacts: Step = (ctx, deps) => {
  const hit = ctx.hit!;
  const { email, phone } = hit.props;
  if (email === undefined && phone === undefined) return undefined;
  delete hit.props.email;
  delete hit.props.phone;
  const found: Array<[string, string]> = [];
  const emailHash = email === undefined ? null : hashEmail(email, deps.identityKey);
  const phoneHash = phone === undefined ? null : hashPhone(phone, deps.identityKey, deps.phoneCountry);
  if (emailHash) {
    hit.props.email_hash = emailHash;
    found.push(['email', emailHash]);
  }
  if (phoneHash) {
    hit.props.phone_hash = phoneHash;
    found.push(['phone', phoneHash]);
  }
  const ids: Array<[string, string]> = [];
  if (hit.visitorId) ids.push(['visitor', hit.visitorId.toUpperCase()]);
  if (hit.gaCid) ids.push(['ga', hit.gaCid.toWellFormed()]);
  if (hit.ymUid) ids.push(['ym', hit.ymUid.toWellFormed()]);
  if (found.length === 2) ids.push(found[0]!);
  const linkedAt = toDateTimeString(ctx.req.receivedAt);
  const links: IdentityLinkRow[] = [];
  for (const [kindB, idB] of found) {
    for (const [kindA, idA] of ids) {
      if (kindA !== kindB) links.push({ kind_a: kindA, id_a: idA, kind_b: kindB, id_b: idB, evidence: 'form', linked_at: linkedAt });
    }
  }
  ctx.links = links;
  return undefined;
};
