// The sign-in form: the token is posted once, never put in a URL (http/session.ts).
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import { WORDS } from '../words.js';
import { frame } from './layout.js';

/** `wrong`: the last attempt's token was not the reports token. */
export function signInPage(lang: Lang, wrong = false): string {
  const w = WORDS[lang].signIn;
  return frame({
    lang,
    title: `${w.title} — ${WORDS[lang].product}`,
    switchTo: (l) => `/reports?lang=${l}`,
    signedIn: false,
    body: `<section class="card problem-page"><h1>${esc(w.title)}</h1><p class="quiet">${esc(w.intro)}</p>
<form method="post" action="/reports/sign-in" id="sign-in-form">
<label>${esc(w.token)} <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button type="submit" id="sign-in">${esc(w.button)}</button>
</form>${wrong ? `\n<p class="problem" id="problem">${esc(w.wrong)}</p>` : ''}</section>`,
  });
}
