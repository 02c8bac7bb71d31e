// When the tracker keeps quiet: the site waits for consent and has none, the visitor opted out, the site asked to honour
// Do-Not-Track / Global Privacy Control and the browser sends it, or the page
// runs in an automated browser (a test can allow that with
// window.__throughlineAllowAutomation = true).
export const OPT_OUT_COOKIE = 'tl_optout';
/** Set by throughline('consent'): in consent mode (data-consent="wait") the tracker runs only with it. */
export const CONSENT_COOKIE = 'tl_consent';

type Win = Window & {
  __throughlineAllowAutomation?: boolean;
};
type Nav = Navigator & { globalPrivacyControl?: boolean };

export function automated(w: Win): boolean {
  return !w.__throughlineAllowAutomation && !!w.navigator.webdriver;
}

export function privacySignal(nav: Nav): boolean {
  return nav.doNotTrack == '1' || !!nav.globalPrivacyControl;
}
