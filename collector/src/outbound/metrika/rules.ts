// What Metrika takes in the text fields Throughline writes for it, each rule in
// one place: the configuration, the admin routes and the CSV files all check
// against these.
//   goal      a "JavaScript event" goal's identifier (the CSV's Target). Metrika
//             forbids / \ & # ? = " in it; Throughline takes the plainer subset
//             of Latin letters, digits, _ . - that does not start with -, so it
//             can never start a spreadsheet formula (= + - @), nor need
//             quoting in a CSV (no comma, quote or line break).
//   ClientID  the `_ym_uid` cookie's value: digits only, the rule the tracker
//             and the CRM side already read it with (identity/ids.ts).
//   currency  ISO 4217, three capital letters.
//   time zone the counter's, an IANA name (CDP order times are read in it).
import { ID_RULES } from '../../identity/ids.js';

export const GOAL_RULE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/;
export const GOAL_RULE_TEXT = 'a goal identifier: 1 to 100 Latin letters, digits, _ . or -, not starting with -';

export const isGoal = (s: string): boolean => GOAL_RULE.test(s);

/** A Metrika ClientID as stored (digits, at most identity/ids.ts ID_MAX of them). */
export const isClientId = (s: string): boolean => s !== '' && ID_RULES.ym_uid(s) === s;

export const isCurrency = (s: string): boolean => /^[A-Z]{3}$/.test(s);

/** Whether the runtime knows `name` as a time zone. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
