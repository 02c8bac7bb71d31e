// An error on the page's face as a page in its language: what happened, what to
// do, and the way back. Each kind has its status: a bad option 400, reports
// turned off 503, a report that failed 500. The JSON API keeps its JSON errors.
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import { WORDS, type ProblemKind } from '../words.js';
import { frame } from './layout.js';

export const PROBLEM_STATUS: Record<ProblemKind, number> = { bad_option: 400, disabled: 503, failed: 500 };

/** `detail`: the reason, as the option parser gives it (bad_option). */
export function problemPage(lang: Lang, kind: ProblemKind, detail = ''): string {
  const p = WORDS[lang].problems[kind];
  return frame({
    lang,
    title: `${p.title} — ${WORDS[lang].product}`,
    switchTo: (l) => `/reports?lang=${l}`,
    signedIn: false,
    body: `<section class="card problem-page" id="problem-page" data-problem="${kind}" data-status="${PROBLEM_STATUS[kind]}"><h1>${esc(p.title)}</h1>
<p id="what">${esc(p.what(detail))}</p>
<p id="todo">${esc(p.whatToDo)}</p>
<p><a class="button-link" id="again" href="/reports">${esc(p.again)}</a></p></section>`,
  });
}
