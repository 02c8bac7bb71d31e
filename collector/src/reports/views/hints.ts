// What the page says when there is nothing (yet) to show, and what to do next:
// no visits at all (paste the tracker: the one line, with this collector's
// address), visits but no deals (connect a CRM), no costs (how to upload them),
// a period with nothing in it (wider periods), no funnel stages (the CRM
// setup); and that the demo's sample data is among the figures. Each is a card
// with an id of its own.
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import type { Report, Stored } from '../build.js';
import { presetPeriod, type Preset } from '../period.js';
import { WORDS, type View } from '../words.js';
import { periodText } from './figures.js';
import { pageHref, type PageQuery } from './query.js';


/** Where the CRM setup page lives. */
export const CRM_SETUP = '/crm/setup';

/** The presets offered when a period holds nothing. */
const WIDER: Preset[] = ['90d', 'all'];

const card = (id: string, title: string, body: string) => `<section class="card hint" id="${id}"><h2>${esc(title)}</h2>${body}</section>`;

/** The tracker's one line for a site, loaded from this collector. */
export const trackerSnippet = (origin: string) => `<script async src="${origin}/t.js" data-site="my-site"></script>`;

export const costsCommand = (origin: string) =>
  `curl -H "Authorization: Bearer $REPORTS_TOKEN" -H 'Content-Type: text/csv' --data-binary @costs.csv ${origin}/api/costs`;

export type HintContext = { lang: Lang; view: View; query: PageQuery; today: string; origin: string; stored: Stored; report: Report };

export function hints(c: HintContext): string {
  const w = WORDS[c.lang].hints;
  const out: string[] = [];
  if (c.stored.sample) out.push(card('hint-sample', w.sample.title, `<p>${esc(w.sample.text)}</p>`));
  if (!c.stored.visits) {
    out.push(card('hint-tracker', w.tracker.title, `<p>${esc(w.tracker.text)}</p><pre><code id="snippet">${esc(trackerSnippet(c.origin))}</code></pre><p class="quiet">${esc(w.tracker.site)}</p>`));
  } else if (!c.stored.deals) {
    out.push(card('hint-crm', w.crm.title, `<p>${esc(w.crm.text)}</p><p><a class="button-link" id="crm-setup" href="${CRM_SETUP}">${esc(w.crm.setup)}</a></p><p class="quiet">${esc(w.crm.readme)}</p>`));
  }
  if (!c.report.rows.length && (c.stored.visits || c.stored.deals || c.stored.costs)) {
    const links = WIDER.map((p) => `<a class="chip" data-preset="${p}" href="${esc(pageHref(c.query, { period: presetPeriod(p, c.today) }))}">${esc(WORDS[c.lang].presets[p])}</a>`).join(' ');
    out.push(card('hint-period', w.period.title, `<p>${esc(w.period.text(periodText(c.report.period, c.lang)))}</p><p>${links}</p>`));
  }
  if (c.view === 'overview' && c.stored.visits && !c.stored.costs) {
    out.push(card('hint-costs', w.costs.title, `<p>${esc(w.costs.text)}</p><pre><code id="costs-command">${esc(costsCommand(c.origin))}</code></pre><p class="quiet">${esc(w.costs.readme)}</p>`));
  }
  if (c.view === 'funnel' && !c.report.stages.length) {
    out.push(card('hint-stages', w.stages.title, `<p>${esc(w.stages.text)}</p><p><a class="button-link" href="${CRM_SETUP}">${esc(w.stages.setup)}</a></p>`));
  }
  return out.join('\n');
}
