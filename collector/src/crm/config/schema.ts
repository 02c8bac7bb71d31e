// The CRM configuration: Throughline's funnel, and per CRM source its secret,
// account, API credentials, status mapping, identity fields, filters, kept fields
// and calculated fields. One declared schema, used for the file and for the
// admin API alike; everything a person can get wrong is refused with a message
// that says where (`sources.amo.pipelines.9217056.142: no stage "Paid"`).
import { z } from 'zod';
import { CRM_ID_FIELDS } from '../../../../contract/fields.js';
import { ConfigError } from '../../config.js';
import { compileFormula, type CompiledFormula } from '../fields/calculated.js';
import { stageActionProblems, stageActionsSchema } from './actions.js';
import { visitTriggerProblems, visitTriggersSchema } from './triggers.js';
import { illFormedPaths, NO_CONTROL } from '../text.js';

export const MARKERS = ['won', 'lost', 'returned', 'paused'] as const;
export type Marker = (typeof MARKERS)[number];

const secret = z.string().min(16, 'at least 16 characters').regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (it goes into a URL)');
const url = z.url().transform((u) => u.replace(/\/+$/, ''));
/** A stage, pipeline, status or field name: shown in reports and matched against CRM data. */
const name = (max: number) => z.string().min(1).max(max).regex(NO_CONTROL, 'control and invisible format characters are not allowed');

/** Pipeline id (or `*` for every other pipeline) → CRM status id / name → funnel stage. */
const pipelines = z.record(name(200), z.record(name(200), name(100)));

const common = {
  secret,
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as RUB').default('RUB'),
  pipelines: pipelines.default({}),
  /** Identity id → the CRM fields (name, id or code) that may carry it; by default the tracker's hidden fields (contract/fields.ts). */
  identityFields: z
    .object({
      visitor_id: z.array(name(200)).default(() => [...CRM_ID_FIELDS.visitor_id]),
      ga_cid: z.array(name(200)).default(() => [...CRM_ID_FIELDS.ga_cid]),
      ym_uid: z.array(name(200)).default(() => [...CRM_ID_FIELDS.ym_uid]),
      utm_source: z.array(name(200)).default(() => [...CRM_ID_FIELDS.utm_source]),
      utm_medium: z.array(name(200)).default(() => [...CRM_ID_FIELDS.utm_medium]),
      utm_campaign: z.array(name(200)).default(() => [...CRM_ID_FIELDS.utm_campaign]),
      utm_term: z.array(name(200)).default(() => [...CRM_ID_FIELDS.utm_term]),
      utm_content: z.array(name(200)).default(() => [...CRM_ID_FIELDS.utm_content]),
      email: z.array(name(200)).default(['email']),
      phone: z.array(name(200)).default(['phone']),
    })
    .prefault({}),
  /** A deal is kept only when every filter holds: its field equals the value. */
  filters: z.array(z.object({ field: name(200), equals: z.string().max(10_000) }).strict()).default([]),
  /** Custom fields to keep (name, id or code); empty keeps them all. */
  keepFields: z.array(name(200)).default([]),
  calculated: z
    .array(
      z
        .object({
          name: name(200),
          formula: z.string().min(1).max(1000),
          variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits, _'), name(200)).default({}),
        })
        .strict(),
    )
    .default([]),
};

const amocrm = z
  .object({
    kind: z.literal('amocrm'),
    ...common,
    account: z
      .object({ id: z.string().regex(/^\d+$/).optional(), subdomain: z.string().min(1).optional() })
      .strict()
      .refine((a) => a.id || a.subdomain, 'give the account id, the subdomain or both'),
    api: z
      .object({
        baseUrl: url,
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        redirectUri: z.string().min(1),
        refreshToken: z.string().optional(),
        accessToken: z.string().optional(),
      })
      .strict()
      .optional(),
    /** The site-visit trigger's rules (triggers.ts): a visit to a page moves an open deal forward. */
    visitTriggers: visitTriggersSchema,
  })
  .strict();

const zoho = z
  .object({
    kind: z.literal('zoho'),
    ...common,
    /** Lead_Status of the Leads module → funnel stage (usually the early stages); leads have no pipelines. */
    leadStatuses: z.record(name(200), name(100)).default({}),
    /** The token Zoho echoes in every Notifications API callback. */
    notificationToken: z.string().min(16, 'at least 16 characters').optional(),
    api: z
      .object({
        accountsUrl: url,
        apiDomain: url.optional(),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        refreshToken: z.string().min(1),
      })
      .strict()
      .optional(),
    watch: z
      .object({ notifyUrl: z.url(), channelId: z.string().regex(/^\d+$/), renewHours: z.number().min(1).max(168).default(12) })
      .strict()
      .optional(),
  })
  .strict();

const imported = z.object({ kind: z.literal('import'), ...common }).strict();

const source = z.discriminatedUnion('kind', [amocrm, zoho, imported]);

export const crmConfigSchema = z
  .object({
    funnel: z
      .array(z.object({ stage: name(100), marker: z.enum(MARKERS).optional() }).strict())
      .max(100)
      .default([]),
    sources: z.record(z.string().regex(/^[a-z0-9_-]{1,40}$/, 'lower-case letters, digits, _ and -'), source).default({}),
    /** What entering a stage sends (actions.ts): a GA4 event, a signed webhook. */
    stageActions: stageActionsSchema,
  })
  .strict();

export type CrmConfig = z.output<typeof crmConfigSchema>;
export type SourceConfig = CrmConfig['sources'][string];
export type AmoSource = Extract<SourceConfig, { kind: 'amocrm' }>;
export type ZohoSource = Extract<SourceConfig, { kind: 'zoho' }>;

export type Stage = { name: string; index: number; marker: Marker | null };
export type Funnel = { stages: Stage[]; byName: Map<string, Stage>; byMarker: Map<Marker, Stage> };

/** A validated configuration with its funnel indexed and its formulas compiled. */
export type LoadedConfig = {
  raw: CrmConfig;
  funnel: Funnel;
  formulas: Map<string, CompiledFormula[]>;
};

/** A ConfigError: at start-up the collector stops with its message, as for a bad variable. */
export class CrmConfigError extends ConfigError {}

/**
 * Validates a parsed JSON value and builds what the collector runs on (the
 * funnel, the compiled formulas); throws CrmConfigError listing every problem.
 * Text that is not well-formed is refused first: it cannot be stored as UTF-8.
 */
export function loadCrmConfig(value: unknown): LoadedConfig {
  const illFormed = illFormedPaths(value);
  if (illFormed.length) throw new CrmConfigError(illFormed.map((p) => `${p}: not well-formed text (a lone surrogate)`).join('\n'));
  const parsed = crmConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new CrmConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('\n'));
  }
  const raw = parsed.data;
  const problems: string[] = [];
  const stages: Stage[] = [];
  const byName = new Map<string, Stage>();
  const byMarker = new Map<Marker, Stage>();
  raw.funnel.forEach((s, i) => {
    const stage: Stage = { name: s.stage, index: i + 1, marker: s.marker ?? null };
    if (byName.has(s.stage)) problems.push(`funnel.${i}: stage "${s.stage}" appears twice`);
    if (stage.marker) {
      const other = byMarker.get(stage.marker);
      if (other) {
        problems.push(`funnel.${i}: marker "${stage.marker}" is already on stage "${other.name}"; each marker may be on one stage only`);
      } else byMarker.set(stage.marker, stage);
    }
    byName.set(s.stage, stage);
    stages.push(stage);
  });
  const formulas = new Map<string, CompiledFormula[]>();
  for (const [id, src] of Object.entries(raw.sources)) {
    for (const [pipeline, statuses] of Object.entries(src.pipelines)) {
      for (const [status, stage] of Object.entries(statuses)) {
        if (!byName.has(stage)) problems.push(`sources.${id}.pipelines.${pipeline}.${status}: no stage "${stage}" in the funnel`);
      }
    }
    const compiled: CompiledFormula[] = [];
    src.calculated.forEach((c, i) => {
      try {
        compiled.push(compileFormula(c));
      } catch (err) {
        problems.push(`sources.${id}.calculated.${i}: ${(err as Error).message}`);
      }
    });
    formulas.set(id, compiled);
    if (src.kind === 'zoho') {
      for (const [status, stage] of Object.entries(src.leadStatuses)) {
        if (!byName.has(stage)) problems.push(`sources.${id}.leadStatuses.${status}: no stage "${stage}" in the funnel`);
      }
    }
    if (src.kind === 'zoho' && src.watch && !src.api) problems.push(`sources.${id}.watch: needs api credentials to subscribe`);
    if (src.kind === 'zoho' && src.watch && !src.notificationToken) problems.push(`sources.${id}.watch: needs notificationToken`);
    if (src.kind === 'amocrm') problems.push(...visitTriggerProblems(id, src, { stages, byName, byMarker }));
  }
  problems.push(...stageActionProblems(raw.stageActions, byName));
  if (problems.length) throw new CrmConfigError(problems.join('\n'));
  return { raw, funnel: { stages, byName, byMarker }, formulas };
}
