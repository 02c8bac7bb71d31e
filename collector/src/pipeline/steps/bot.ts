// bot: crawlers and scripts by user agent (isbot, a maintained list), and
// automated browsers by what they admit: HeadlessChrome in the user agent or the
// Sec-CH-UA hint, or the tracker's navigator.webdriver flag.
import { isbot } from 'isbot';
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

const HEADLESS = /headless/i;

/**
 * isbot's verdict per user agent. Real traffic repeats a few thousand user
 * agents, and the list is one long regular expression; the cache is cleared
 * whenever it fills, so it stays small under a stream of unique strings.
 */
const verdicts = new Map<string, boolean>();
const CACHE_SIZE = 5000;

function isBotAgent(ua: string): boolean {
  let v = verdicts.get(ua);
  if (v === undefined) {
    if (verdicts.size >= CACHE_SIZE) verdicts.clear();
    v = isbot(ua);
    verdicts.set(ua, v);
  }
  return v;
}

export const bot: Step = (ctx, deps) => {
  if (!deps.botFilter) return undefined;
  const ua = ctx.req.userAgent;
  if (ua === '') return drop('bot', 'no user agent');
  if (isBotAgent(ua)) return drop('bot', 'user agent');
  if (HEADLESS.test(ctx.req.clientHints)) return drop('bot', 'headless client hint');
  if (ctx.hit!.automated) return drop('bot', 'webdriver');
  return undefined;
};
