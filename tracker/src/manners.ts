// When the tracker keeps quiet: the site waits for consent and has none, the
// visitor opted out, the site asked to honour Do-Not-Track / Global Privacy
// Control and the browser sends it, or the page runs in an automated browser.
// Tests that drive a browser turn its automation flag off
// (--disable-blink-features=AutomationControlled): the tracker carries no
// switch a page could set.
export const OPT_OUT_COOKIE = 'tl_optout';
/** Set by throughline('consent'): in consent mode (data-consent="wait") the tracker runs only with it. */
export const CONSENT_COOKIE = 'tl_consent';

/** Selenium, Puppeteer and Playwright set navigator.webdriver. */
export function automated(): boolean {
  return navigator.webdriver;
}

export function privacySignal(): boolean {
  return navigator.doNotTrack == '1' || !!(navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
}
