// The CRM setup page, rendered on the server: the addresses to paste into each
// CRM, one form (the funnel; per source its statuses, each with a stage to
// choose, and what is kept of a deal), and the last deliveries. Plain forms and
// links, no script. Before it, the sign-in form (http/session.ts); without
// CRM_ADMIN_TOKEN, a page saying how to turn it on. No page holds a secret in a
// form field: the webhook addresses are shown apart from the form.
import type { SourceConfig } from '../config/schema.js';
import { MARKERS } from '../config/schema.js';
import type { Delivery } from '../status/store.js';
import { OUTBOX_PATH } from '../../outbound/page/path.js';
import { esc, htmlDocument } from '../../web/html.js';
import { LANGS, type Lang } from '../../web/lang.js';
import { blankStage, FIELD, type SetupForm, type SourceRows, type StageRow } from './form.js';
import type { SourceLists } from './lists.js';
import { ANY_PIPELINE, placeOfSeen, type RowPlace, type StatusGroup, type StatusRow } from './statuses.js';
import { TEXT, type SetupText } from './text.js';
import type { Webhook } from './webhooks.js';

export const SETUP_PATH = '/crm/setup';

/** Empty rows offered for new funnel stages, filters and calculated fields. */
const NEW_STAGES = 2;

const CSS = `.setup th,.setup td{text-align:left;white-space:normal;vertical-align:top}
h3{margin:14px 0 4px}
label.url{display:block;margin:6px 0}input.url{display:block;width:min(64em,100%);font-family:ui-monospace,monospace;user-select:all}
tr.unseen-stage td{background:#fff4e5}tr:target td{outline:2px solid #e76f51}
.problems{border:1px solid #b00020;padding:4px 12px;background:#fdecee}.saved{border:1px solid #2a9d8f;padding:8px 12px;background:#e8f6f4}
.note,small{color:#555}textarea{font:inherit;width:26em;height:4.2em;padding:5px 8px;border:1px solid #c5ccd8;border-radius:6px}label.block{display:block;margin:8px 0}
#lang,#pages{margin-bottom:8px}#deliveries-table td:first-child{white-space:nowrap}#funnel-table input[type=number]{width:4em}details ul{margin:4px 0;padding-left:18px}button#save{font-size:16px;padding:6px 20px}`;

type Kind = SourceConfig['kind'];

/** A status row's element id: any status text, made safe for an id and a link. */
export const rowId = (source: string, p: RowPlace) => `st-${Buffer.from(`${source}\t${p.target}\t${p.pipeline}\t${p.status}`).toString('base64url')}`;
const mappingKey = (source: string, p: RowPlace) => `${source}\t${p.target}\t${p.pipeline}\t${p.status}`;

const doc = (lang: Lang, body: string) => htmlDocument({ lang, title: TEXT[lang].title, body, css: CSS });
const languages = (t: SetupText) =>
  `<nav id="lang">${esc(t.language)}: ${LANGS.map((l) => `<a href="?lang=${l}" hreflang="${l}" id="lang-${l}">${l === 'ru' ? 'Русский' : 'English'}</a>`).join(' · ')}</nav>`;

/** The sign-in form: the token is posted once, never put in a URL. */
export function signInPage(lang: Lang, problem?: string): string {
  const t = TEXT[lang];
  return doc(
    lang,
    `${languages(t)}<h1>${esc(t.signIn.heading)}</h1>
<form method="post" action="${SETUP_PATH}/sign-in" id="sign-in-form">
<label>${esc(t.signIn.label)} <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button type="submit" id="sign-in">${esc(t.signIn.button)}</button>
</form>${problem ? `\n<p class="problem" id="problem">${esc(problem)}</p>` : ''}`,
  );
}

/** Without CRM_ADMIN_TOKEN: how to turn the page on. */
export function disabledPage(lang: Lang): string {
  const t = TEXT[lang];
  return doc(lang, `${languages(t)}<h1>${esc(t.disabled.heading)}</h1>\n<p id="disabled">${esc(t.disabled.body)}</p>`);
}

/** A page that answers a form that is not this session's. */
export function foreignFormPage(lang: Lang): string {
  const t = TEXT[lang];
  return doc(lang, `<h1>${esc(t.heading)}</h1>\n<p class="problem" id="problem">${esc(t.foreignForm)}</p>\n<p><a href="${SETUP_PATH}">${esc(t.heading)}</a></p>`);
}

export type SourcePanel = { id: string; kind: Kind; lists: SourceLists; groups: StatusGroup[]; webhooks: Webhook[] };

export type SetupPageModel = {
  lang: Lang;
  formToken: string;
  saved: boolean;
  /** Why the last save was refused (the form then holds what was entered). */
  problems: string[];
  form: SetupForm;
  panels: SourcePanel[];
  /** null when Redis did not answer. */
  deliveries: Delivery[] | null;
};

export function setupPage(m: SetupPageModel): string {
  const t = TEXT[m.lang];
  const selected = new Map(m.form.mapping.map((r) => [mappingKey(r.source, r), r.stage]));
  const stages = stageRows(m.form.stages);
  let j = 0;
  const sources = m.panels.map((p) => sourceSection(t, p, m.form.sources[p.id], stages, selected, () => j++)).join('\n');
  const listed = new Set(m.panels.flatMap((p) => p.groups.flatMap((g) => g.rows.map((r) => rowId(p.id, r)))));
  const kinds = new Map(m.panels.map((p) => [p.id, p.kind]));
  return doc(
    m.lang,
    `<div class="setup">
<form method="post" action="${SETUP_PATH}/sign-out" id="signed-in"><button type="submit" id="sign-out">${esc(t.signOut)}</button></form>
${languages(t)}<nav id="pages"><strong>${esc(t.heading)}</strong> · <a href="${OUTBOX_PATH}" id="to-outbox">${esc(t.outbox)}</a></nav>
<h1>${esc(t.heading)}</h1>
<p class="note">${esc(t.intro)}</p>
${m.saved ? `<p class="saved" id="saved" role="status">${esc(t.saved)}</p>` : ''}
${m.problems.length ? `<div class="problems" id="problems" role="alert"><p>${esc(t.refused)}</p><ul>${m.problems.map((x) => `<li>${esc(x)}</li>`).join('')}</ul></div>` : ''}
${webhookSection(t, m.panels)}
<form method="post" action="${SETUP_PATH}" id="setup">
<input type="hidden" name="${FIELD.token}" value="${esc(m.formToken)}">
${funnelSection(t, stages)}
${sources}
<p><button type="submit" id="save">${esc(t.save)}</button></p>
</form>
${deliveriesSection(t, m.deliveries, (source, pipeline, status) => {
  const kind = kinds.get(source);
  const id = kind ? rowId(source, placeOfSeen(kind, pipeline, status)) : '';
  return listed.has(id) ? id : null;
})}
</div>`,
  );
}

/** The funnel rows to show: those filled in, then empty ones for new stages. */
function stageRows(given: StageRow[]): StageRow[] {
  const rows = given.filter((s) => !blankStage(s));
  const next = Math.max(-1, ...given.map((s) => Number(s.key))) + 1;
  for (let i = 0; i < NEW_STAGES; i++) rows.push({ key: String(next + i), name: '', marker: '', order: '', remove: false });
  return rows;
}

function webhookSection(t: SetupText, panels: SourcePanel[]): string {
  const source = (p: SourcePanel) =>
    `<h3>${esc(p.id)} — ${esc(t.kinds[p.kind])}</h3>\n${p.webhooks
      .map((w) => `<label class="url">${esc(t.webhooks.labels[w.kind])}<input class="url" readonly spellcheck="false" id="webhook-${esc(p.id)}-${w.kind}" value="${esc(w.url)}"></label>`)
      .join('\n')}`;
  return `<section class="card" id="webhooks"><h2>${esc(t.webhooks.heading)}</h2><p class="note">${esc(t.webhooks.intro)}</p>\n${panels.map(source).join('\n')}</section>`;
}

function funnelSection(t: SetupText, stages: StageRow[]): string {
  const option = (value: string, label: string, current: string) => `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`;
  const row = (s: StageRow) => `<tr data-stage="${esc(s.key)}">
<td><input type="number" min="1" step="1" name="${FIELD.stage(s.key, 'order')}" value="${esc(s.order)}" aria-label="${esc(t.funnel.order)}"></td>
<td><input name="${FIELD.stage(s.key, 'name')}" value="${esc(s.name)}" maxlength="100" aria-label="${esc(t.funnel.stage)}"></td>
<td><select name="${FIELD.stage(s.key, 'marker')}" aria-label="${esc(t.funnel.marker)}">${option('', t.funnel.noMarker, s.marker)}${MARKERS.map((mk) => option(mk, t.funnel.markers[mk], s.marker)).join('')}${
    s.marker && !(MARKERS as readonly string[]).includes(s.marker) ? option(s.marker, s.marker, s.marker) : ''
  }</select></td>
<td><input type="checkbox" name="${FIELD.stage(s.key, 'remove')}" value="1"${s.remove ? ' checked' : ''} aria-label="${esc(t.funnel.remove)}"></td></tr>`;
  return `<section class="card" id="funnel"><h2>${esc(t.funnel.heading)}</h2><p class="note">${esc(t.funnel.intro)}</p>
<table id="funnel-table"><thead><tr><th>${esc(t.funnel.order)}</th><th>${esc(t.funnel.stage)}</th><th>${esc(t.funnel.marker)}</th><th>${esc(t.funnel.remove)}</th></tr></thead>
<tbody>${stages.map(row).join('\n')}</tbody></table></section>`;
}

function listsNote(t: SetupText, p: SourcePanel): string {
  if (p.kind === 'import') return t.lists.imported;
  if (!p.lists.api) return t.lists.noApi;
  if (p.lists.problem) return t.lists.apiFailed(p.lists.problem);
  return t.lists.fromApi[p.kind];
}

function groupHeading(t: SetupText, g: StatusGroup): string {
  if (g.target === 'leadStatuses') return t.leads;
  if (g.pipeline === ANY_PIPELINE) return t.everyPipeline;
  return t.pipeline(g.name, g.pipeline);
}

function sourceSection(
  t: SetupText,
  p: SourcePanel,
  rows: SourceRows | undefined,
  stages: StageRow[],
  selected: Map<string, string>,
  nextIndex: () => number,
): string {
  // Every funnel row is a choice: a stage being added in the same save too, by its row.
  const options = stages.map((s, i) => ({ key: s.key, label: s.name.trim() || t.funnel.newStage(i + 1) }));
  // A status is its id (amoCRM) or its name (Zoho, an import): the id gets a column only where the CRM names it.
  const statusRow = (r: StatusRow, ids: boolean) => {
    const j = nextIndex();
    const stage = selected.get(mappingKey(p.id, r)) ?? '';
    const hidden = (part: 'source' | 'target' | 'pipeline' | 'status', value: string) => `<input type="hidden" name="${FIELD.map(j, part)}" value="${esc(value)}">`;
    const choice = (value: string, label: string) => `<option value="${esc(value)}"${value === stage ? ' selected' : ''}>${esc(label)}</option>`;
    const unknownChoice = stage && !options.some((s) => s.key === stage) ? choice(stage, stage) : '';
    const cls = r.seen > 0 && stage === '' && !r.closes ? ' class="unseen-stage"' : '';
    return `<tr id="${rowId(p.id, r)}"${cls} data-source="${esc(p.id)}" data-target="${r.target}" data-pipeline="${esc(r.pipeline)}" data-status="${esc(r.status)}">
<td>${esc(r.name || r.status)}${r.closes ? `<br><small>${esc(t.closes[r.closes])}</small>` : ''}</td>${ids ? `<td>${r.name ? esc(r.status) : ''}</td>` : ''}
<td class="from">${esc(r.from.map((o) => t.origins[o]).join(', '))}</td><td class="seen">${r.seen || ''}</td>
<td>${hidden('source', p.id)}${hidden('target', r.target)}${hidden('pipeline', r.pipeline)}${hidden('status', r.status)}<select name="${FIELD.map(j, 'stage')}" aria-label="${esc(t.columns.stage)}">${choice('', t.noStage)}${options.map((s) => choice(s.key, s.label)).join('')}${unknownChoice}</select></td></tr>`;
  };
  const group = (g: StatusGroup) => {
    const ids = g.rows.some((r) => r.name);
    return `<h3>${esc(groupHeading(t, g))}</h3>
<table class="statuses" data-target="${g.target}" data-pipeline="${esc(g.pipeline)}"><thead><tr><th>${esc(t.columns.status)}</th>${ids ? `<th>${esc(t.columns.id)}</th>` : ''}<th>${esc(t.columns.from)}</th><th>${esc(t.columns.seen)}</th><th>${esc(t.columns.stage)}</th></tr></thead>
<tbody>${g.rows.map((r) => statusRow(r, ids)).join('\n')}</tbody></table>`;
  };
  return `<section class="card source" id="source-${esc(p.id)}"><h2>${esc(p.id)} — ${esc(t.kinds[p.kind])}</h2>
<p class="note lists-note">${esc(listsNote(t, p))}</p>
${p.groups.length ? p.groups.map(group).join('\n') : `<p class="note">${esc(t.lists.empty)}</p>`}
${fieldsOf(t, p.id, rows ?? { keep: '', filters: [], calculated: [] })}</section>`;
}

function fieldsOf(t: SetupText, id: string, rows: SourceRows): string {
  const f = t.fields;
  const filters = [...rows.filters.filter((x) => x.field || x.equals), { field: '', equals: '' }];
  const calculated = [...rows.calculated.filter((c) => c.name || c.formula || c.variables), { name: '', formula: '', variables: '' }];
  const input = (name: string, value: string, label: string) => `<input name="${name}" value="${esc(value)}" aria-label="${esc(label)}">`;
  return `<h3>${esc(f.heading)}</h3>
<label class="block">${esc(f.keep)}<br><textarea name="${FIELD.keep(id)}">${esc(rows.keep)}</textarea></label>
<p>${esc(f.filters)}</p>
<table class="filters"><thead><tr><th>${esc(f.field)}</th><th>${esc(f.equals)}</th></tr></thead><tbody>${filters
    .map((x, k) => `<tr><td>${input(FIELD.filter(id, k, 'field'), x.field, f.field)}</td><td>${input(FIELD.filter(id, k, 'equals'), x.equals, f.equals)}</td></tr>`)
    .join('')}</tbody></table>
<p>${esc(f.calculated)}<br><small>${esc(f.formulaHelp)}</small></p>
<table class="calculated"><thead><tr><th>${esc(f.name)}</th><th>${esc(f.formula)}</th><th>${esc(f.variables)}</th></tr></thead><tbody>${calculated
    .map(
      (c, k) =>
        `<tr><td>${input(FIELD.calc(id, k, 'name'), c.name, f.name)}</td><td>${input(FIELD.calc(id, k, 'formula'), c.formula, f.formula)}</td><td><textarea name="${FIELD.calc(id, k, 'variables')}" aria-label="${esc(f.variables)}">${esc(c.variables)}</textarea></td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** `linkOf` gives the element id of the status row that maps an unmapped status, or null when none is listed. */
function deliveriesSection(t: SetupText, deliveries: Delivery[] | null, linkOf: (source: string, pipeline: string, status: string) => string | null): string {
  const d = t.deliveries;
  const head = `<section class="card" id="deliveries"><h2>${esc(d.heading)}</h2>`;
  if (deliveries === null) return `${head}<p class="problem">${esc(d.unknown)}</p></section>`;
  if (!deliveries.length) return `${head}<p class="note">${esc(d.none)}</p></section>`;
  const list = (items: string[], n: number) => (n ? `${n}${items.length ? `<details${items.some((i) => i.includes('class="map-it"')) ? ' open' : ''}><summary>${esc(d.records(items.length))}</summary><ul>${items.join('')}</ul></details>` : ''}` : '0');
  const row = (x: Delivery) => {
    const refused = x.refused.map((r) => `<li>${esc(r.record)}: ${esc(r.reason)}</li>`);
    const unusable = x.unusable.map((u) => {
      const link = u.reason === 'unmapped_status' && u.status !== undefined ? linkOf(x.source, u.pipeline ?? '', u.status) : null;
      return `<li data-reason="${esc(u.reason)}">${esc(u.record)}: ${esc(u.reason)} — ${esc(u.detail)}${link ? ` <a href="#${link}" class="map-it">${esc(d.mapIt)}</a>` : ''}</li>`;
    });
    return `<tr data-source="${esc(x.source)}"><td>${esc(x.at.replace('T', ' ').replace(/\.\d+Z$/, ''))}</td><td>${esc(x.source)}</td><td>${esc(x.door)}</td><td>${x.stored}</td><td>${x.repeated}</td><td>${x.filtered}</td><td>${x.ignored}</td><td class="refused">${list(refused, x.refused_count)}</td><td class="unusable">${list(unusable, x.unusable_count)}</td></tr>`;
  };
  const c = d.columns;
  return `${head}<p class="note">${esc(d.intro)}</p>
<div class="scroll"><table id="deliveries-table"><thead><tr><th>${esc(c.at)}</th><th>${esc(c.source)}</th><th>${esc(c.door)}</th><th>${esc(c.stored)}</th><th>${esc(c.repeated)}</th><th>${esc(c.filtered)}</th><th>${esc(c.ignored)}</th><th>${esc(c.refused)}</th><th>${esc(c.unusable)}</th></tr></thead>
<tbody>${deliveries.map(row).join('\n')}</tbody></table></div></section>`;
}
