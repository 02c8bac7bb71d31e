// JSON of CRM bodies, read without losing a digit. Zoho record ids have 19
// digits; a workflow template that writes `"id": ${Deals.Deal Id}` without
// quotes sends them as JSON numbers, and JSON.parse rounds 5725767000004318061
// to 5725767000004318000, so two deals would fold into one under a wrong id.
// Here a number that a double holds exactly stays a number; any other number
// is kept as its exact text (a string), which the readers take as they take a
// quoted value: ids as written, amounts converted on their decimal text.
import { isSafeNumber, parse } from 'lossless-json';

const exactNumber = (text: string): number | string => (isSafeNumber(text) ? Number(text) : text);

/**
 * JSON.parse with numbers kept exact. As with JSON.parse, a repeated key takes
 * its last value and `__proto__` is an ordinary key. Throws SyntaxError (or
 * RangeError when nested beyond the stack) when the text is not JSON.
 */
export function parseCrmJson(text: string): unknown {
  return parse(text, null, { parseNumber: exactNumber, onDuplicateKey: ({ newValue }) => newValue });
}
