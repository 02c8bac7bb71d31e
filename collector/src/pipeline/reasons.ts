// The closed set of reasons a hit can be refused or dropped for, and the HTTP
// status each one answers with. Every drop is counted under its name at /metrics.
// Bots and throttled visits get a 204 like an accepted hit: telling a bot it was
// recognised only teaches it to hide, and a throttled visit is not an error. The
// visit throttle and the rate limit are decided while the hit is being made
// durable (pipeline/steps/limits.ts), so their drops are answered 204 too.
export const DROP_STATUS = {
  method_not_allowed: 405,
  unsupported_content_type: 415,
  body_too_large: 413,
  invalid_utf8: 400,
  malformed_json: 400,
  invalid_site: 400,
  invalid_kind: 400,
  invalid_event_id: 400,
  invalid_timestamp: 400,
  invalid_url: 400,
  invalid_field: 400,
  unknown_site: 403,
  origin_not_allowed: 403,
  bot: 204,
  throttled: 204,
  rate_limited: 204,
} as const;

export type DropReason = keyof typeof DROP_STATUS;

export const DROP_REASONS = Object.keys(DROP_STATUS) as DropReason[];

export type Drop = { reason: DropReason; detail?: string };

export function drop(reason: DropReason, detail?: string): Drop {
  return detail === undefined ? { reason } : { reason, detail };
}

/**
 * What a hit loses without being dropped: a field removed from it, counted at
 * /metrics by field and reason. An id outside its rule is `malformed`; a prop is
 * `not_allowed` (its key is on no list), `not_a_contact` (an e-mail or phone key
 * whose value is neither), `duplicate` (a second e-mail or phone) or `personal`
 * (an allowed key whose value is an e-mail or phone number).
 */
export const FIELD_DROPS = {
  visitor_id: ['malformed'],
  ga_cid: ['malformed'],
  ym_uid: ['malformed'],
  prop: ['not_allowed', 'not_a_contact', 'duplicate', 'personal'],
} as const;

export type DroppedField = keyof typeof FIELD_DROPS;
export type FieldDrop = { [F in DroppedField]: { field: F; reason: (typeof FIELD_DROPS)[F][number] } }[DroppedField];

/** Every (field, reason) pair, for counters that start at 0. */
export const FIELD_DROP_PAIRS: readonly FieldDrop[] = Object.entries(FIELD_DROPS).flatMap(([field, reasons]) =>
  reasons.map((reason) => ({ field, reason }) as FieldDrop),
);
