// Debian's Chromium driven by playwright-core; never a downloaded browser.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The flag that makes a driven Chromium look like a visitor's (navigator.webdriver false). */
export const AS_A_VISITOR = '--disable-blink-features=AutomationControlled';

/** `automated`: keep the automation flag on (navigator.webdriver true), as a bot driving Chromium would. */
export function launchChromium({ automated = false } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // The tracker keeps quiet in automated browsers and carries no switch a page could set.
      ...(automated ? [] : [AS_A_VISITOR]),
    ],
  });
}
