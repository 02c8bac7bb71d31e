// The frame of the report pages: the top bar (name, language switch, sign-out),
// and on the report itself the view tabs, the period chips, the form that picks
// the model, the days and the rows (a GET form: no script, it reloads the
// page), the CSV download of what is shown, and the sentences saying what the
// figures are and how fresh. Neither the frame nor its links ever hold the token.
import { FIRST_DAY, LAST_DAY } from '../../clickhouse/days.js';
import { MODEL_NAMES } from '../../attribution/models.js';
import { esc, htmlDocument } from '../../web/html.js';
import { LANGS, type Lang } from '../../web/lang.js';
import type { Report, Stored } from '../build.js';
import { presetOf, presetPeriod, PRESETS } from '../period.js';
import { GROUPS } from '../queries.js';
import { WORDS } from '../words.js';
import { periodText } from './figures.js';
import { hints } from './hints.js';
import { keyName } from './names.js';
import { csvHref, pageHref, VIEWS, type PageQuery } from './query.js';
import { REPORT_CSS } from './style.js';

export type FrameOptions = {
  lang: Lang;
  title: string;
  body: string;
  /** Where the switch to another language goes (it keeps what is shown). */
  switchTo: (lang: Lang) => string;
  signedIn: boolean;
};

/** A whole report page: the top bar and `body`. */
export function frame(o: FrameOptions): string {
  const w = WORDS[o.lang];
  const langs = LANGS.map(
    (l) => `<a href="${esc(o.switchTo(l))}" hreflang="${l}" lang="${l}" data-lang="${l}"${l === o.lang ? ' aria-current="true"' : ''}>${esc(WORDS[l].name)}</a>`,
  ).join('');
  const signOut = o.signedIn
    ? `<form method="post" action="/reports/sign-out" id="signed-in"><button type="submit" id="sign-out" class="quiet">${esc(w.signOut)}</button></form>`
    : '';
  return htmlDocument({
    lang: o.lang,
    title: o.title,
    css: REPORT_CSS,
    body: `<header class="topbar"><span class="brand">${esc(w.product)}</span><nav id="lang" aria-label="${esc(w.language)}">${langs}</nav>${signOut}</header>
${o.body}`,
  });
}

/** What every view of the report is drawn from. */
export type PageContext = { lang: Lang; query: PageQuery; today: string; origin: string; stored: Stored };

const option = (value: string, label: string, current: string) => `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`;

function controls(c: PageContext, r: Report): string {
  const w = WORDS[c.lang];
  const q = c.query;
  const { options: o, view } = q;
  const current = presetOf(o.period, c.today);
  const chips = PRESETS.map(
    (p) =>
      `<a class="chip" data-preset="${p}" href="${esc(pageHref(q, { period: presetPeriod(p, c.today) }))}"${p === current ? ' aria-current="true"' : ''}>${esc(w.presets[p])}</a>`,
  ).join('');
  const keys = r.rows.map((x) => x.key);
  if (q.channel && !keys.includes(q.channel)) keys.push(q.channel);
  const fields = [
    view === 'overview' ? '' : `<input type="hidden" name="view" value="${view}">`,
    view === 'funnel'
      ? `<label>${esc(w.groups[o.group])}<select name="channel" id="channel">${option('', w.pickers.allKeys, q.channel)}${keys.map((k) => option(k, keyName(k, o.group, c.lang), q.channel)).join('')}</select></label>`
      : '',
    view === 'models' ? '' : `<label>${esc(w.pickers.model)}<select name="model" id="model">${MODEL_NAMES.map((m) => option(m, w.models[m].label, o.model)).join('')}</select></label>`,
    `<label>${esc(w.pickers.from)}<input type="date" name="from" id="from" min="${FIRST_DAY}" max="${LAST_DAY}" value="${esc(o.period.from ?? '')}"></label>`,
    `<label>${esc(w.pickers.to)}<input type="date" name="to" id="to" min="${FIRST_DAY}" max="${LAST_DAY}" value="${esc(o.period.to ?? '')}"></label>`,
    `<label>${esc(w.pickers.rows)}<select name="group" id="group">${GROUPS.map((g) => option(g, w.groups[g], o.group)).join('')}</select></label>`,
    q.window ? `<input type="hidden" name="window" value="${esc(q.window)}">` : '',
    `<button type="submit" id="apply">${esc(w.pickers.show)}</button>`,
  ];
  return `<section class="card controls">
<div class="presets" id="presets"><span>${esc(w.pickers.period)}</span>${chips}</div>
<form method="get" action="/reports" id="pickers">${fields.filter(Boolean).join('\n')}</form>
<div><a class="button-link" id="csv" href="${esc(csvHref(q))}" download>${esc(w.pickers.csv)}</a></div>
</section>`;
}

/** The report page of view `c.query.view`, around its body; `r` is the report of the model picked. */
export function reportPage(c: PageContext, r: Report, body: string): string {
  const w = WORDS[c.lang];
  const q = c.query;
  const tabs = VIEWS.map(
    (v) => `<a href="${esc(pageHref(q, { view: v }))}" data-view="${v}"${v === q.view ? ' aria-current="page"' : ''}>${esc(w.views[v])}</a>`,
  ).join('');
  const model = q.view === 'models' ? w.views.models : w.models[r.model].label;
  const res = r.resolution;
  return frame({
    lang: c.lang,
    title: `${w.views[q.view]} — ${w.product}`,
    switchTo: (l) => `${pageHref(q)}&lang=${l}`,
    signedIn: true,
    body: `<h1>${esc(w.heading)}</h1>
<nav class="tabs" id="views">${tabs}</nav>
${controls(c, r)}
<p id="summary">${esc(w.summary(model, periodText(r.period, c.lang), r.windowDays))}</p>
<p id="resolution" data-current="${res.current}" data-refreshing="${res.refreshing}">${esc(w.resolution(res))}</p>
${hints({ ...c, view: q.view, report: r })}
${body}`,
  });
}
