// contacts: a hit's props are kept only when they are known. The tracker sends
// a lead's form `id`, `name` and `action` and the e-mail and phone the visitor
// typed, and the number of a clicked tel: link; anyone else may send anything.
//   - A prop named like an e-mail or a phone, whatever its case or spelling
//     (Email, e-mail, tel, phone_number, …: privacy/personal.ts), is replaced by
//     a keyed hash (identity/hash.ts), `email_hash` / `phone_hash`; a value that
//     is no e-mail or phone is dropped. The raw value is never stored.
//   - `id`, `name` and `action` are kept, unless their value holds an e-mail or a
//     phone number (then dropped); `action` is a URL and is redacted as one.
//   - Any other prop is dropped.
// Each drop is recorded on the hit (counted at /metrics). A lead's hashes are
// linked to the visitor's ids in identity_links (evidence `form`), and to each
// other; a tel: click's number is the site's own, so it links no one.
import type { CountryCode } from 'libphonenumber-js';
import { toDateTimeString } from '../../clickhouse/sql.js';
import { addDrop, NO_PROPS, type HitInput } from '../../hits/wire.js';
import { hashEmail, hashPhone } from '../../identity/hash.js';
import { hasContact, personalName } from '../../privacy/personal.js';
import { DEFAULT_REDACTOR } from '../../privacy/url.js';
import type { IdentityLinkRow, PipelineDeps, Step } from '../context.js';

/** The props kept as they are (what the tracker sends of a form besides its contacts). */
export const ALLOWED_PROPS = new Set(['id', 'name', 'action']);

type Found = { email: string | null; phone: string | null };

/** The hit's props replaced by the kept ones; returns the contact hashes found. */
function keepProps(hit: HitInput, deps: PipelineDeps): Found {
  const found: Found = { email: null, phone: null };
  const kept: Record<string, string> = {};
  const redactor = deps.urlPrivacy ?? DEFAULT_REDACTOR;
  for (const [key, value] of Object.entries(hit.props)) {
    if (ALLOWED_PROPS.has(key)) {
      if (key === 'action') kept[key] = redactor.redact(value);
      else if (!hasContact(value, deps.phoneCountry)) kept[key] = value;
      else addDrop(hit, { field: 'prop', reason: 'personal' });
      continue;
    }
    const kind = personalName(key);
    if (kind !== 'email' && kind !== 'phone') {
      addDrop(hit, { field: 'prop', reason: 'not_allowed' });
      continue;
    }
    // The tracker sends an empty e-mail and phone when the form had none: nothing was there to drop.
    if (value.trim() === '') continue;
    const hash = kind === 'email' ? hashEmail(value, deps.identityKey) : hashPhone(value, deps.identityKey, deps.phoneCountry as CountryCode);
    if (hash === null) addDrop(hit, { field: 'prop', reason: 'not_a_contact' });
    else if (found[kind] !== null && found[kind] !== hash) addDrop(hit, { field: 'prop', reason: 'duplicate' });
    else found[kind] = hash;
  }
  if (found.email) kept.email_hash = found.email;
  if (found.phone) kept.phone_hash = found.phone;
  hit.props = Object.keys(kept).length === 0 ? NO_PROPS : kept;
  return found;
}

export const contacts: Step = (ctx, deps) => {
  const hit = ctx.hit!;
  if (hit.props === NO_PROPS) return undefined;
  const found = keepProps(hit, deps);
  if (hit.kind !== 'lead' || (found.email === null && found.phone === null)) return undefined;
  const hashes: Array<[string, string]> = [];
  if (found.email) hashes.push(['email', found.email]);
  if (found.phone) hashes.push(['phone', found.phone]);
  // The ids come checked by their rules from the wire (hits/wire.ts).
  const ids: Array<[string, string]> = [];
  if (hit.visitorId) ids.push(['visitor', hit.visitorId]);
  if (hit.gaCid) ids.push(['ga', hit.gaCid]);
  if (hit.ymUid) ids.push(['ym', hit.ymUid]);
  if (hashes.length === 2) ids.push(hashes[0]!);
  const linkedAt = toDateTimeString(ctx.req.receivedAt);
  const links: IdentityLinkRow[] = [];
  for (const [kindB, idB] of hashes) {
    for (const [kindA, idA] of ids) {
      if (kindA !== kindB) links.push({ kind_a: kindA, id_a: idA, kind_b: kindB, id_b: idB, evidence: 'form', linked_at: linkedAt });
    }
  }
  ctx.links = links;
  return undefined;
};
