// The funnel view: the funnel's stages, in order, for all rows together or the
// one picked, with how many deals passed each and were refused at it, and the
// conversion from the stage before and from the first. Drawn as a funnel in an
// inline SVG (bar widths in percent of the chart, centred), with the exact
// figures in a table under it. Counts are the model's credited shares, so a
// channel may have passed half a stage under a multi-touch model.
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import { tidy, type Report, type StageCount } from '../build.js';
import { WORDS } from '../words.js';
import { count, percent } from './figures.js';
import { keyName } from './names.js';

export type FunnelStep = StageCount & { fromPrevious: number | null; fromFirst: number | null };

/** Conversions of each stage: passed over the stage before's passed, and over the first's (none when that is 0). */
export function funnelSteps(stages: StageCount[]): FunnelStep[] {
  const first = stages[0]?.passed ?? 0;
  const over = (a: number, b: number) => (b > 0 ? tidy(a / b) : null);
  return stages.map((s, i) => ({ ...s, fromPrevious: i === 0 ? null : over(s.passed, stages[i - 1]!.passed), fromFirst: over(s.passed, first) }));
}

const ROW_H = 56;

function drawing(steps: FunnelStep[], lang: Lang, of: string): string {
  const w = WORDS[lang].funnel;
  const max = Math.max(0, ...steps.map((s) => s.passed));
  const rows = steps
    .map((s, i) => {
      const y = i * ROW_H;
      const share = max > 0 ? s.passed / max : 0;
      const width = Math.max(share * 100, s.passed > 0 ? 0.8 : 0);
      const x = (100 - width) / 2;
      const line = `${s.stage} — ${w.passedOf(count(s.passed, lang), percent(s.fromFirst, lang))}`;
      const refused = s.refused > 0 ? ` · <tspan class="refused">${esc(w.refusedCount(count(s.refused, lang)))}</tspan>` : '';
      return `<text class="label" x="50%" y="${y + 15}" text-anchor="middle">${esc(line)}${refused}</text>
<rect class="step step-${i % 6}" x="${x.toFixed(2)}%" y="${y + 22}" width="${width.toFixed(2)}%" height="26" rx="3" data-stage="${esc(s.stage)}" data-value="${s.passed}"/>`;
    })
    .join('\n');
  return `<svg id="funnel-chart" class="funnel" role="img" aria-label="${esc(w.title(of))}" width="100%" height="${steps.length * ROW_H}" xmlns="http://www.w3.org/2000/svg">
${rows}
</svg>`;
}

function table(steps: FunnelStep[], lang: Lang): string {
  const w = WORDS[lang].funnel;
  const cell = (col: string, value: number | null, text: string) => `<td data-col="${col}"${value === null ? '' : ` data-value="${value}"`}>${esc(text)}</td>`;
  const body = steps
    .map(
      (s) =>
        `<tr data-stage="${esc(s.stage)}"><th scope="row">${esc(s.stage)}</th>${cell('passed', s.passed, count(s.passed, lang))}${cell('refused', s.refused, count(s.refused, lang))}` +
        `${cell('from_previous', s.fromPrevious, percent(s.fromPrevious, lang))}${cell('from_first', s.fromFirst, percent(s.fromFirst, lang))}</tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table id="funnel"><thead><tr><th>${esc(w.stage)}</th><th>${esc(w.passed)}</th><th>${esc(w.refused)}</th><th>${esc(w.fromPrevious)}</th><th>${esc(w.fromFirst)}</th></tr></thead>
<tbody>${body}</tbody></table></div>`;
}

/** The funnel of the row `key` ('' for all together); empty when the report has no stages (the page then says how to get them). */
export function funnelView(r: Report, key: string, lang: Lang): string {
  const w = WORDS[lang];
  if (!r.stages.length) return '';
  const row = key ? r.rows.find((x) => x.key === key) : r.totals;
  const steps = funnelSteps(row?.stages ?? r.stages.map((stage) => ({ stage, passed: 0, refused: 0 })));
  const of = key ? keyName(key, r.group, lang) : w.pickers.allKeys;
  const empty = steps.every((s) => s.passed === 0 && s.refused === 0) ? `<p class="quiet" id="funnel-empty">${esc(w.funnel.noDeals)}</p>` : '';
  return `<section class="card" id="funnel-view"><h2>${esc(w.funnel.title(of))}</h2>${empty}
${drawing(steps, lang, of)}
${table(steps, lang)}
</section>`;
}
