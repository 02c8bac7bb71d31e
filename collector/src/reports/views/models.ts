// The six models side by side: for each row, the revenue (and won deals) each
// model credits it with, so a marketer sees which channels open the way to a
// sale and which close it. Every model splits the same deals, so each column
// adds up to the same total. A bar in each cell shows the credit against the
// row's largest. DOM contract (tests rely on it): table#models, body rows
// tr[data-key="<raw key>"], cells td[data-model="<model name>"] with
// data-minor="<revenue in minor units>".
import { MODEL_NAMES, type ModelName } from '../../attribution/models.js';
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import type { Report, ReportRow } from '../build.js';
import { WORDS } from '../words.js';
import { count, money } from './figures.js';
import { keyName } from './names.js';

/** One report per model, in MODEL_NAMES order. */
export type ModelReports = Record<ModelName, Report>;

/** The keys of every model's rows, by the most revenue any model credits them with. */
function keysOf(reports: ModelReports): string[] {
  const most = new Map<string, number>();
  for (const m of MODEL_NAMES) for (const x of reports[m].rows) most.set(x.key, Math.max(most.get(x.key) ?? 0, x.revenue_minor));
  return [...most.keys()].sort((a, b) => most.get(b)! - most.get(a)! || a.localeCompare(b));
}

function row(key: string, label: string, of: (m: ModelName) => ReportRow | undefined, r: Report, lang: Lang, total = false): string {
  const w = WORDS[lang].modelsView;
  const top = Math.max(1, ...MODEL_NAMES.map((m) => of(m)?.revenue_minor ?? 0));
  const cells = MODEL_NAMES.map((m) => {
    const x = of(m);
    const minor = x?.revenue_minor ?? 0;
    const won = x?.won ?? 0;
    const bar = total ? '' : `<span class="credit" style="width:${Math.round((Math.max(0, minor) / top) * 100)}%"></span>`;
    return `<td data-model="${m}" data-minor="${minor}" data-won="${won}">${bar}<span class="v">${esc(money(minor, r.currency, lang))}</span><small>${esc(w.won(count(won, lang)))}</small></td>`;
  });
  return `<tr data-key="${esc(key)}"${total ? ' class="total"' : ''}><th scope="row">${esc(label)}</th>${cells.join('')}</tr>`;
}

export function modelsView(reports: ModelReports, lang: Lang): string {
  const w = WORDS[lang];
  const first = reports[MODEL_NAMES[0]!];
  const find = (key: string) => (m: ModelName) => reports[m].rows.find((x) => x.key === key);
  const head = MODEL_NAMES.map((m) => `<th data-model="${m}">${esc(w.models[m].label)}</th>`).join('');
  const body = keysOf(reports)
    .map((key) => row(key, keyName(key, first.group, lang), find(key), first, lang))
    .join('\n');
  const total = row(first.totals.key, keyName(first.totals.key, first.group, lang), (m) => reports[m].totals, first, lang, true);
  const about = MODEL_NAMES.map((m) => `<dt>${esc(w.models[m].label)}</dt><dd>${esc(w.models[m].about)}</dd>`).join('');
  return `<section class="card" id="models-view"><h2>${esc(w.modelsView.title)}</h2><p class="quiet">${esc(w.modelsView.intro)}</p>
<div class="scroll"><table id="models"><thead><tr><th>${esc(w.groups[first.group])}</th>${head}</tr></thead>
<tbody>${body}</tbody>
<tfoot>${total}</tfoot></table></div>
<dl class="about">${about}</dl>
</section>`;
}
