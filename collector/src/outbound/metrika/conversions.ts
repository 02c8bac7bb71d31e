// Metrika's offline-conversion file, exactly (CRM-FORMATS.md "Yandex Metrika"):
//   ClientId,Target,DateTime,Price,Currency
//   133591247640966458,order_paid,1481718166,123.45,RUB
// UTF-8, a header, one conversion a line: the visitor's `_ym_uid`, the goal's
// identifier, the unix second of the conversion (UTC, in the past), the price
// in major units with a dot, the ISO 4217 currency (empty: the counter's).
//
// Every field is checked against a narrow rule (rules.ts) rather than escaped:
// each can then only hold digits, letters and `_ . -`, so no field needs
// quoting, none can break a line, and none can start a spreadsheet formula
// (= + - @) when someone opens the download. A conversion with a field outside
// its rule is refused with a named reason, and the caller counts it.
import { majorUnits } from './money.js';
import { isClientId, isCurrency, isGoal } from './rules.js';

export const CONVERSIONS_HEADER = 'ClientId,Target,DateTime,Price,Currency';

/** Why a conversion is left out of a file. */
export const CONVERSION_REFUSALS = ['bad_client_id', 'bad_goal', 'bad_time', 'absurd_amount', 'bad_currency'] as const;
export type ConversionRefusal = (typeof CONVERSION_REFUSALS)[number];

/** One won deal as a conversion: `at` in unix seconds, the deal's amount in minor units. */
export type Conversion = { clientId: string; goal: string; at: number; amountMinor: number; currency: string };

/** The conversion's line of the file, or why it cannot be one. A negative amount converts at 0. */
export function conversionLine(c: Conversion): { line: string } | { refused: ConversionRefusal } {
  if (!isClientId(c.clientId)) return { refused: 'bad_client_id' };
  if (!isGoal(c.goal)) return { refused: 'bad_goal' };
  if (!Number.isSafeInteger(c.at) || c.at <= 0) return { refused: 'bad_time' };
  const price = majorUnits(Math.max(0, c.amountMinor));
  if (price === null) return { refused: 'absurd_amount' };
  if (c.currency !== '' && !isCurrency(c.currency)) return { refused: 'bad_currency' };
  return { line: `${c.clientId},${c.goal},${c.at},${price},${c.currency}` };
}

/** The file of these lines: the header, then one line each, every line ended by a line feed. */
export function conversionsCsv(lines: string[]): string {
  return `${[CONVERSIONS_HEADER, ...lines].join('\n')}\n`;
}
