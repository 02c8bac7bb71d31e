// Money as Metrika's CSV files take it: major units with a dot. Deals keep
// money in minor units of two digits (crm/money.ts), so the text is made from
// the integer's digits, never through a float: 12345 is "123.45" exactly,
// whatever its size. An amount outside JavaScript's exact integers (it was
// read from an Int64 with Number()) cannot be told exactly and is refused.

/** `minor` as major units with a dot and two decimals ("123.45", "0.05"), or null when it is not an exact integer. */
export function majorUnits(minor: number): string | null {
  if (!Number.isSafeInteger(minor)) return null;
  const digits = String(Math.abs(minor)).padStart(3, '0');
  return `${minor < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
