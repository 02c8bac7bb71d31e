// How a source's configuration reads a deal's fields: filters, the custom
// fields kept, the identity ids (visitor, GA, Metrika, UTM, e-mail, phone) and
// calculated fields. A field is named in the configuration by its CRM name, id
// or code, compared without case. The ids are read by the shared contract's
// rules and, besides the names a source configures, always under the names the
// tracker's hidden fields carry them (contract/fields.ts), so a deal created
// from the site's form is joined to its visitor with no configuration. The
// visitor id may also have been typed by a person (a caller's promo code), so it
// is read as typed: case, spaces and dashes forgiven (contract visitorCode).
import { CRM_ID_FIELDS } from '../../../../contract/fields.js';
import { gaClientId, visitorCode } from '../../../../contract/ids.js';
import { ID_RULES } from '../../identity/ids.js';
import type { CrmField, DealChange } from '../change.js';
import type { SourceConfig } from '../config/schema.js';
import type { CompiledFormula } from './calculated.js';
import { toNumber } from './calculated.js';

const fold = (s: string) => s.trim().toLowerCase();

function matches(field: CrmField, names: string[]): boolean {
  const wanted = new Set(names.map(fold));
  return wanted.has(fold(field.name)) || (field.id !== '' && wanted.has(fold(field.id))) || (field.code !== '' && wanted.has(fold(field.code)));
}

/** The deal's standard fields, addressable by filters and formulas like custom ones. */
function standardFields(deal: DealChange): CrmField[] {
  const std = (name: string, value: string): CrmField => ({ id: '', name, code: '', value });
  return [std('name', deal.name), std('pipeline_id', deal.pipelineId), std('status_id', deal.statusId)];
}

export function fieldValues(deal: DealChange, names: string[]): string[] {
  return [...deal.fields, ...standardFields(deal)].filter((f) => f.value !== '' && matches(f, names)).map((f) => f.value);
}

/** The first filter that the deal fails, or null when it passes them all. */
export function failedFilter(deal: DealChange, filters: SourceConfig['filters']): string | null {
  for (const f of filters) {
    if (!fieldValues(deal, [f.field]).includes(f.equals)) return `${f.field} != ${f.equals}`;
  }
  return null;
}

export function keptFields(deal: DealChange, keep: string[]): CrmField[] {
  return keep.length === 0 ? deal.fields : deal.fields.filter((f) => matches(f, keep));
}

/** `GA1.2.908899769.1600020018` (a raw _ga cookie) or `908899769.1600020018` → `908899769.1600020018`; '' for anything else. */
export { gaClientId };

export type IdentityIds = {
  visitor_id: string;
  ga_cid: string;
  ym_uid: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  emails: string[];
  phones: string[];
};

export type IdName = keyof typeof CRM_ID_FIELDS;

/** The fields an id is read from: the source's names first, then the contract's defaults it does not list. */
function idFieldNames(cfg: SourceConfig['identityFields'], id: IdName): string[] {
  const named = new Set(cfg[id].map(fold));
  return [...cfg[id], ...CRM_ID_FIELDS[id].filter((n) => !named.has(fold(n)))];
}

/** The values of the fields an id is read from, trimmed: what identityIds reads and status/unusable.ts checks. */
export function idValues(deal: DealChange, cfg: SourceConfig['identityFields'], id: IdName): string[] {
  return fieldValues(deal, idFieldNames(cfg, id)).map((v) => v.trim());
}

export function identityIds(deal: DealChange, cfg: SourceConfig['identityFields']): IdentityIds {
  const values = (id: IdName) => idValues(deal, cfg, id);
  /** The first of the id's values that its rule accepts ('' when none does). */
  const valid = (id: IdName, rule: (v: string) => string | null) => values(id).map(rule).find((v) => v) ?? '';
  const first = (id: IdName) => values(id)[0] ?? '';
  return {
    visitor_id: valid('visitor_id', visitorCode),
    ga_cid: valid('ga_cid', ID_RULES.ga_cid),
    ym_uid: valid('ym_uid', ID_RULES.ym_uid),
    utm_source: first('utm_source'),
    utm_medium: first('utm_medium'),
    utm_campaign: first('utm_campaign'),
    utm_term: first('utm_term'),
    utm_content: first('utm_content'),
    emails: [...deal.emails, ...fieldValues(deal, cfg.email)],
    phones: [...deal.phones, ...fieldValues(deal, cfg.phone)],
  };
}

export type Calculated = { values: CrmField[]; errors: string[] };

/** Evaluates every calculated field; a missing or non-numeric input skips that field with a reason. */
export function calculate(deal: DealChange, formulas: CompiledFormula[], calculated: SourceConfig['calculated']): Calculated {
  const values: CrmField[] = [];
  const errors: string[] = [];
  formulas.forEach((f, i) => {
    // Variables by own key only: a formula's `constructor` is no variable.
    const vars = new Map(Object.entries(calculated[i]?.variables ?? {}));
    const scope = new Map<string, number>();
    for (const sym of f.symbols) {
      const n = sym === 'amount' && !vars.has(sym) ? deal.amountMinor / 100 : toNumber(fieldValues(deal, [vars.get(sym) ?? sym])[0]);
      if (n === null) {
        errors.push(`${f.name}: ${vars.get(sym) ?? sym} is not a number`);
        return;
      }
      scope.set(sym, n);
    }
    try {
      const out = f.evaluate(scope);
      values.push({ id: '', name: f.name, code: '', value: String(Math.round(out * 1e6) / 1e6) });
    } catch (err) {
      errors.push((err as Error).message);
    }
  });
  return { values, errors };
}
