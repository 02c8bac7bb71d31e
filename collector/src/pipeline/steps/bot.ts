// bot: crawlers and scripts by user agent (isbot, a maintained list), and
// automated browsers by what they admit: HeadlessChrome in the user agent or the
// Sec-CH-UA hint, or the tracker's navigator.webdriver flag.
import { isbot } from 'isbot';
import { remember } from '../../cache/remember.js';
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

const HEADLESS = /headless/i;

/** isbot's verdict per user agent: real traffic repeats a few thousand, and the list is one long regular expression. */
const isBotAgent = remember(isbot, 5000);

export const bot: Step = (ctx, deps) => {
  if (!deps.botFilter) return undefined;
  const ua = ctx.req.userAgent;
  if (ua === '') return drop('bot', 'no user agent');
  if (isBotAgent(ua)) return drop('bot', 'user agent');
  if (HEADLESS.test(ctx.req.clientHints)) return drop('bot', 'headless client hint');
  if (ctx.hit!.automated) return drop('bot', 'webdriver');
  return undefined;
};
