// Money is stored in minor units (kopecks, cents) so that reports add up to the
// kopeck. CRMs send amounts in major units, as numbers or decimal strings; the
// conversion works on the decimal text, never through float multiplication.

/** `22500` → 2250000, `"1 500,5"` → 150050, `12.345` → 1235 (half away from zero); null when not an amount. */
export function toMinor(raw: unknown, fractionDigits = 2): number | null {
  if (raw === null || raw === undefined || raw === '') return null;
  let text = typeof raw === 'number' ? (Number.isFinite(raw) ? raw.toFixed(fractionDigits + 2) : '') : String(raw);
  text = text.replace(/[\s\u00a0]/g, '').replace(',', '.');
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const [, sign, whole, frac = ''] = m;
  const padded = (frac + '0'.repeat(fractionDigits + 1)).slice(0, fractionDigits + 1);
  let minor = Number(whole) * 10 ** fractionDigits + Number(padded.slice(0, fractionDigits) || '0');
  if (Number(padded.slice(fractionDigits)) >= 5) minor += 1;
  if (!Number.isSafeInteger(minor)) return null;
  return sign === '-' ? -minor : minor;
}

/**
 * A deal amount as a CRM gives it: 0 when none is given, NaN when what is given
 * is not an amount, so that the deal check refuses the record with its reason.
 */
export function dealAmount(raw: unknown): number {
  if (raw === null || raw === undefined || raw === '') return 0;
  return toMinor(raw) ?? NaN;
}
