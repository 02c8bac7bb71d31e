// Chromium that resolves the given host names to loopback, so a page can be
// opened the way users reach it: plain HTTP on a name, which Chromium (unlike
// for localhost or 127.0.0.1) does not treat as a potentially trustworthy origin.
import { chromium, type Browser } from 'playwright-core';
import { AS_A_VISITOR, CHROMIUM } from './browser.js';

export function launchChromiumResolving(hosts: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', AS_A_VISITOR, `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`],
  });
}
