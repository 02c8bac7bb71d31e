// The setup page's form and the CRM configuration, both ways. The form is plain
// fields (it works without script); what it holds is turned into a whole
// configuration value, the one in force with the form's parts replaced, and
// that value is judged by the configuration's own check (config/apply.ts), not
// here. Only what is the form's own syntax (a variable line without `=`, a
// stage chosen by a row that does not exist) is refused here.
//
//   stages.<i>.name | marker | order | remove     a funnel row (i: its key)
//   map.<j>.source | target | pipeline | status | stage
//                                                 a status and the key of its stage row ('' none)
//   src.<id>.keep                                 custom fields kept, one per line; marks the source as on the form
//   src.<id>.filter.<k>.field | equals
//   src.<id>.calc.<k>.name | formula | variables  variables one per line, `variable = CRM field`
import type { CrmConfig } from '../config/schema.js';
import { LEADS_PIPELINE } from '../zoho/record.js';
import type { MapTarget, RowPlace } from './statuses.js';

export type StageRow = { key: string; name: string; marker: string; order: string; remove: boolean };
export type MappingRow = RowPlace & { source: string; stage: string };
export type FilterRow = { field: string; equals: string };
export type CalculatedRow = { name: string; formula: string; variables: string };
export type SourceRows = { keep: string; filters: FilterRow[]; calculated: CalculatedRow[] };
export type SetupForm = { stages: StageRow[]; mapping: MappingRow[]; sources: Record<string, SourceRows> };

/** The form's field names, for the page that writes them and the reader that reads them. */
export const FIELD = {
  stage: (key: string, part: 'name' | 'marker' | 'order' | 'remove') => `stages.${key}.${part}`,
  map: (j: number, part: 'source' | 'target' | 'pipeline' | 'status' | 'stage') => `map.${j}.${part}`,
  keep: (id: string) => `src.${id}.keep`,
  filter: (id: string, k: number, part: 'field' | 'equals') => `src.${id}.filter.${k}.${part}`,
  calc: (id: string, k: number, part: 'name' | 'formula' | 'variables') => `src.${id}.calc.${k}.${part}`,
  token: 'form_token',
};

const STAGE = /^stages\.(\d{1,4})\.(name|marker|order|remove)$/;
const MAP = /^map\.(\d{1,6})\.(source|target|pipeline|status|stage)$/;
const KEEP = /^src\.([a-z0-9_-]{1,40})\.keep$/;
const FILTER = /^src\.([a-z0-9_-]{1,40})\.filter\.(\d{1,4})\.(field|equals)$/;
const CALC = /^src\.([a-z0-9_-]{1,40})\.calc\.(\d{1,4})\.(name|formula|variables)$/;

/** Rows collected by their index, in the index's order; a field given twice keeps its first value. */
class Rows<T extends Record<string, string>> {
  private readonly byIndex = new Map<number, Partial<T>>();
  set(index: string, part: keyof T, value: string): void {
    const i = Number(index);
    let row = this.byIndex.get(i);
    if (!row) this.byIndex.set(i, (row = {}));
    if (row[part] === undefined) row[part] = value as T[keyof T];
  }
  list(): [number, Partial<T>][] {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/** The form as posted (urlencoded pairs, in order). */
export function readForm(pairs: URLSearchParams): SetupForm {
  const stages = new Rows<{ name: string; marker: string; order: string; remove: string }>();
  const mapping = new Rows<{ source: string; target: string; pipeline: string; status: string; stage: string }>();
  const keep = new Map<string, string>();
  const filters = new Map<string, Rows<FilterRow>>();
  const calculated = new Map<string, Rows<CalculatedRow>>();
  const of = <T extends Record<string, string>>(m: Map<string, Rows<T>>, id: string) => m.get(id) ?? m.set(id, new Rows<T>()).get(id)!;
  for (const [name, value] of pairs) {
    let m: RegExpExecArray | null;
    if ((m = STAGE.exec(name))) stages.set(m[1]!, m[2] as 'name', value);
    else if ((m = MAP.exec(name))) mapping.set(m[1]!, m[2] as 'source', value);
    else if ((m = KEEP.exec(name))) keep.set(m[1]!, keep.get(m[1]!) ?? value);
    else if ((m = FILTER.exec(name))) of(filters, m[1]!).set(m[2]!, m[3] as 'field', value);
    else if ((m = CALC.exec(name))) of(calculated, m[1]!).set(m[2]!, m[3] as 'name', value);
  }
  // Made from entries: a source posted as `__proto__` is a name like any other (and no source).
  const sources: Record<string, SourceRows> = Object.fromEntries(
    [...keep].map(([id, text]) => [
      id,
      {
        keep: text,
        filters: (filters.get(id)?.list() ?? []).map(([, f]) => ({ field: f.field ?? '', equals: f.equals ?? '' })),
        calculated: (calculated.get(id)?.list() ?? []).map(([, c]) => ({ name: c.name ?? '', formula: c.formula ?? '', variables: c.variables ?? '' })),
      },
    ]),
  );
  return {
    stages: stages.list().map(([i, s]) => ({ key: String(i), name: s.name ?? '', marker: s.marker ?? '', order: s.order ?? '', remove: s.remove !== undefined })),
    mapping: mapping.list().map(([, r]) => ({
      source: r.source ?? '',
      target: (r.target === 'leadStatuses' ? 'leadStatuses' : 'pipelines') as MapTarget,
      pipeline: r.pipeline ?? '',
      status: r.status ?? '',
      stage: r.stage ?? '',
    })),
    sources,
  };
}

/** A stage row nobody filled: an empty row offered for a new stage. */
export const blankStage = (s: StageRow) => s.name.trim() === '' && s.marker === '' && !s.remove;

/** The form showing a configuration: its funnel rows keyed by their place, its statuses choosing them. */
export function formOfConfig(config: CrmConfig): SetupForm {
  const stages = config.funnel.map((s, i) => ({ key: String(i), name: s.stage, marker: s.marker ?? '', order: String(i + 1), remove: false }));
  const keyOf = new Map(stages.map((s) => [s.name, s.key]));
  const mapping: MappingRow[] = [];
  const sources: Record<string, SourceRows> = {};
  for (const [source, src] of Object.entries(config.sources)) {
    const rows = (target: MapTarget, pipeline: string, statuses: Record<string, string>) => {
      for (const [status, stage] of Object.entries(statuses)) mapping.push({ source, target, pipeline, status, stage: keyOf.get(stage) ?? '' });
    };
    for (const [pipeline, statuses] of Object.entries(src.pipelines)) rows('pipelines', pipeline, statuses);
    if (src.kind === 'zoho') rows('leadStatuses', LEADS_PIPELINE, src.leadStatuses);
    sources[source] = {
      keep: src.keepFields.join('\n'),
      filters: src.filters.map((f) => ({ ...f })),
      calculated: src.calculated.map((c) => ({ name: c.name, formula: c.formula, variables: Object.entries(c.variables).map(([v, f]) => `${v} = ${f}`).join('\n') })),
    };
  }
  return { stages, mapping, sources };
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * The configuration the form asks for: `current` (the one in force, with every
 * secret and credential the form never shows) with the funnel replaced, and,
 * for each source on the form, its mapping, kept fields, filters and
 * calculated fields replaced. `problems` name what the form itself got wrong.
 */
export function configOfForm(current: CrmConfig, form: SetupForm): { value: CrmConfig; problems: string[] } {
  const problems: string[] = [];
  const value = structuredClone(current);

  // A stage given the place of another goes before it: a row's key is its place when the page was made (formOfConfig).
  const live = form.stages.filter((s) => !s.remove && !blankStage(s));
  const placed = live.map((s, i) => {
    const order = s.order.trim() === '' ? Infinity : Number(s.order);
    if (Number.isNaN(order)) problems.push(`funnel: the order of stage "${s.name.trim()}" is not a number`);
    const kept = order === Number(s.key) + 1 ? 1 : 0;
    return { s, order: Number.isNaN(order) ? Infinity : order, kept, i };
  });
  placed.sort((a, b) => a.order - b.order || a.kept - b.kept || a.i - b.i);
  // A marker the schema does not know is passed on: the schema names it.
  value.funnel = placed.map(({ s }) => (s.marker ? { stage: s.name.trim(), marker: s.marker as never } : { stage: s.name.trim() }));
  const stageName = new Map(form.stages.map((s) => [s.key, s.name.trim()]));
  // Stage actions are kept as they are; a stage renamed takes its actions along, as it takes its statuses (the
  // row's key is its place when the page was made). Those of a stage removed are left for the check to name.
  const renamed = new Map(
    live.flatMap((s) => {
      const was = current.funnel[Number(s.key)]?.stage;
      return was !== undefined && was !== s.name.trim() ? [[was, s.name.trim()] as const] : [];
    }),
  );
  value.stageActions = value.stageActions.map((a) => (renamed.has(a.stage) ? { ...a, stage: renamed.get(a.stage)! } : a));

  const onForm = new Set<string>();
  for (const [id, rows] of Object.entries(form.sources)) {
    const src = Object.hasOwn(value.sources, id) ? value.sources[id] : undefined;
    if (!src) {
      problems.push(`sources.${id}: no such source in the configuration in force`);
      continue;
    }
    onForm.add(id);
    src.keepFields = [...new Set(lines(rows.keep))];
    src.filters = rows.filters.filter((f) => f.field.trim() !== '' || f.equals !== '').map((f) => ({ field: f.field.trim(), equals: f.equals }));
    src.calculated = rows.calculated
      .filter((c) => c.name.trim() !== '' || c.formula.trim() !== '' || c.variables.trim() !== '')
      .map((c, i) => ({ name: c.name.trim(), formula: c.formula.trim(), variables: variables(c.variables, `sources.${id}.calculated.${i}.variables`, problems) }));
  }

  // Built as entries, so a pipeline or status named `__proto__` is a key like any other.
  const maps = new Map<string, Map<string, Map<string, string>>>();
  for (const m of form.mapping) {
    if (!onForm.has(m.source) || m.stage === '') continue;
    const name = stageName.get(m.stage);
    const at = m.target === 'leadStatuses' ? `sources.${m.source}.leadStatuses.${m.status}` : `sources.${m.source}.pipelines.${m.pipeline}.${m.status}`;
    if (name === undefined) problems.push(`${at}: no stage row "${m.stage}" on the form`);
    else if (m.target === 'leadStatuses' && value.sources[m.source]!.kind !== 'zoho') problems.push(`${at}: only a Zoho source has lead statuses`);
    else {
      const key = `${m.source}\t${m.target}`;
      const byPipeline = maps.get(key) ?? maps.set(key, new Map()).get(key)!;
      const pipeline = m.target === 'leadStatuses' ? LEADS_PIPELINE : m.pipeline;
      const statuses = byPipeline.get(pipeline) ?? byPipeline.set(pipeline, new Map()).get(pipeline)!;
      statuses.set(m.status, name);
    }
  }
  for (const id of onForm) {
    const src = value.sources[id]!;
    const of = (target: MapTarget) => maps.get(`${id}\t${target}`) ?? new Map<string, Map<string, string>>();
    src.pipelines = Object.fromEntries([...of('pipelines')].map(([p, statuses]) => [p, Object.fromEntries(statuses)]));
    if (src.kind === 'zoho') src.leadStatuses = Object.fromEntries(of('leadStatuses').get(LEADS_PIPELINE) ?? []);
  }
  return { value, problems };
}

/** `variable = CRM field` lines as the calculated field's variables. */
function variables(text: string, at: string, problems: string[]): Record<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq < 0) {
      problems.push(`${at}: "${line}" is not "variable = CRM field"`);
      continue;
    }
    const name = line.slice(0, eq).trim();
    if (out.has(name)) problems.push(`${at}: variable "${name}" is given twice`);
    out.set(name, line.slice(eq + 1).trim());
  }
  return Object.fromEntries(out);
}
