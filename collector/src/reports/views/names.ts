// The name a row goes by on the page: a channel by its name in the page's
// language ("Paid search", not paid_search), a month by the month, the
// report's own rows (total, unattributed) by what they are. Sources and
// campaigns are names people gave, shown as they are; so is a key no rule
// knows (the page escapes it).
import { UNATTRIBUTED } from '../../attribution/credits-sql.js';
import { CHANNELS, type Channel } from '../../channels/classify.js';
import { TOTAL_KEY } from '../build.js';
import type { Lang } from '../../web/lang.js';
import type { Group } from '../queries.js';
import { WORDS } from '../words.js';
import { monthText } from './figures.js';

const isChannel = (key: string): key is Channel => (CHANNELS as readonly string[]).includes(key);

export function keyName(key: string, group: Group, lang: Lang): string {
  const w = WORDS[lang];
  if (key === TOTAL_KEY) return w.keys.total;
  if (key === UNATTRIBUTED) return w.keys.unattributed;
  if (group === 'channel' && isChannel(key)) return w.channels[key];
  if (group === 'month' && /^\d{4}-\d\d-01$/.test(key)) return monthText(key, lang);
  if (group === 'source' && key === '(direct)') return w.keys.direct;
  if (group === 'source' && key === '(not set)') return w.keys.notSet;
  return key;
}
