// Figures written for people, in the page's language (Intl): money with its
// currency and thousands separators ("₽70,000.00", "70 000,00 ₽"), counts,
// percentages, changes with their sign, days and months. Money goes to Intl as
// the exact decimal string of its integer minor units (format.ts formatMinor),
// never as a float, so a sum past 2^53 kopecks is written digit for digit as
// the number it is.
import type { Period } from '../../attribution/credits-sql.js';
import type { Lang } from '../../web/lang.js';
import { formatMinor } from '../format.js';
import { WORDS } from '../words.js';

const formats = new Map<string, Intl.NumberFormat>();

/** One formatter per language and options, made once. */
function numbers(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang} ${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.NumberFormat(WORDS[lang].locale, options)));
  return f;
}

/** Minor units are hundredths of every currency (README, "Money in more than one currency"), so two decimals always. */
const currency = (code: string, more: Intl.NumberFormatOptions = {}): Intl.NumberFormatOptions => ({
  style: 'currency',
  currency: code,
  currencyDisplay: 'narrowSymbol',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  ...more,
});

/** Intl takes an exact decimal string (Intl.NumberFormat v3) and rounds nothing of it. */
const exact = (f: Intl.NumberFormat, minor: number) => f.format(formatMinor(minor) as Intl.StringNumericLiteral);

/** Integer minor units as money: 7000001 RUB -> "₽70,000.01" / "70 000,01 ₽". */
export function money(minor: number, code: string, lang: Lang): string {
  return exact(numbers(lang, currency(code)), minor);
}

/** Minor units as a plain amount, no currency sign: "12,345.67" / "12 345,67". */
export function amount(minor: number, lang: Lang): string {
  return exact(numbers(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }), minor);
}

/** A change of money, with its sign: "+₽5,000.00", "-₽0.01", "₽0.00". */
export function moneyChange(minor: number, code: string, lang: Lang): string {
  return exact(numbers(lang, currency(code, { signDisplay: 'exceptZero' })), minor);
}

/** Money in major units, short, for a chart's axis: "₽20K" / "20 тыс. ₽". */
export function moneyShort(major: number, code: string, lang: Lang): string {
  return numbers(lang, currency(code, { notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 })).format(major);
}

/** A count, whole or a model's share of one (at most two decimals): "1,234", "0.33". */
export function count(x: number, lang: Lang): string {
  return numbers(lang, { maximumFractionDigits: 2 }).format(x);
}

export function countChange(x: number, lang: Lang): string {
  return numbers(lang, { maximumFractionDigits: 2, signDisplay: 'exceptZero' }).format(x);
}

/** A ratio as a percentage (0.125 -> "12.5%"); '—' for none. */
export function percent(x: number | null, lang: Lang): string {
  return x === null ? '—' : numbers(lang, { style: 'percent', maximumFractionDigits: 1 }).format(x);
}

export function percentChange(x: number, lang: Lang): string {
  return numbers(lang, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(x);
}

const at = (day: string) => new Date(`${day}T00:00:00Z`);
const dates = (lang: Lang, options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(WORDS[lang].locale, { timeZone: 'UTC', ...options });

/** A day: "Mar 1, 2026" / "1 мар. 2026 г.". */
export function dayText(day: string, lang: Lang): string {
  return dates(lang, { dateStyle: 'medium' }).format(at(day));
}

/** A period in words: "Mar 1 – 31, 2026", "since Mar 1, 2026", "any time". */
export function periodText(p: Period, lang: Lang): string {
  const w = WORDS[lang].open;
  if (p.from && p.to) return dates(lang, { dateStyle: 'medium' }).formatRange(at(p.from), at(p.to));
  if (p.from) return w.since(dayText(p.from, lang));
  if (p.to) return w.until(dayText(p.to, lang));
  return w.any;
}

/** A month by its first day: "March 2026" / "Март 2026 г.". */
export function monthText(firstDay: string, lang: Lang): string {
  const s = dates(lang, { month: 'long', year: 'numeric' }).format(at(firstDay));
  return s.charAt(0).toLocaleUpperCase(WORDS[lang].locale) + s.slice(1);
}
