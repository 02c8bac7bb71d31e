// The site-visit trigger's rules (amoCRM Digital Pipeline's "site visit", done
// openly), as an amoCRM source of the CRM configuration declares them:
//   "visitTriggers": [{ "page": "/pricing*", "pipeline": "7012345", "status": "7012347" }]
// A visitor tied to an open deal in the pipeline who visits a page the pattern
// matches moves the deal forward to the status (outbound/trigger/). Everything a
// person can get wrong is refused when the configuration is loaded, with a
// message that says where and why: a move the collector could never make (no
// API credentials), or one it must never make (to a losing status, or to a
// status the funnel does not place, so "forward" could not be told).
import { z } from 'zod';
import { amoOutcome, mapStatus } from '../funnel/mapping.js';
import { NO_CONTROL } from '../text.js';
import type { AmoSource, Funnel, Marker, Stage } from './schema.js';

/** The longest page pattern, and the most rules one source may hold. */
export const PATTERN_MAX_CHARS = 500;
export const TRIGGERS_MAX = 100;

/** Stages a visit never moves a deal to: a visit is interest, never a refusal, a return or a pause. */
const NOT_A_TARGET: readonly Marker[] = ['lost', 'returned', 'paused'];

/** amoCRM's "closed — lost", in every pipeline. */
const LOST_STATUS = '143';

/** Why a page pattern is refused; null when it is a pattern. */
export function patternProblem(p: string): string | null {
  if (!p.startsWith('/') && !p.startsWith('*')) return 'a path pattern starts with / or * (no host: write /pricing*, not https://site.example/pricing*)';
  if (/[?#]/.test(p)) return 'a path only: no query (?) and no fragment (#)';
  if (/\s/u.test(p) || !NO_CONTROL.test(p)) return 'no spaces, control or invisible characters (write a space as %20)';
  return null;
}

/** An amoCRM id as the mapping names it: digits, written as text or as a whole number. */
const amoId = (what: string) =>
  z
    .union([z.string(), z.number().int().nonnegative()])
    .transform((v) => String(v))
    .pipe(z.string().regex(/^\d{1,20}$/, `an amoCRM ${what} id (digits)`));

export const visitTriggersSchema = z
  .array(
    z
      .object({
        page: z
          .string()
          .min(1)
          .max(PATTERN_MAX_CHARS)
          .superRefine((p, ctx) => {
            const problem = patternProblem(p);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        pipeline: amoId('pipeline'),
        status: amoId('status'),
      })
      .strict(),
  )
  .max(TRIGGERS_MAX)
  .default([]);

export type VisitTrigger = z.output<typeof visitTriggersSchema>[number];

/**
 * The funnel stage of a rule's status, by the source's own mapping of that
 * pipeline (or its `*`) only: amoCRM's fallback for an unmapped 142 is not used,
 * so a target is always a stage someone placed in the funnel.
 */
export function triggerStage(funnel: Funnel, src: Pick<AmoSource, 'pipelines'>, rule: Pick<VisitTrigger, 'pipeline' | 'status'>): Stage | null {
  return mapStatus(funnel, src, rule.pipeline, rule.status, 'open').stage;
}

/** Where a deal in this pipeline and status stands in the funnel (the same mapping its deliveries were placed by). */
export function statusStage(funnel: Funnel, src: Pick<AmoSource, 'pipelines'>, pipeline: string, status: string): Stage | null {
  return mapStatus(funnel, src, pipeline, status, amoOutcome(status)).stage;
}

/** The load-time problems of a source's rules, each naming its path. */
export function visitTriggerProblems(id: string, src: AmoSource, funnel: Funnel): string[] {
  const problems: string[] = [];
  if (src.visitTriggers.length && !src.api) {
    problems.push(`sources.${id}.visitTriggers: needs api credentials (sources.${id}.api): deals are moved through amoCRM's API`);
  }
  src.visitTriggers.forEach((rule, i) => {
    const at = `sources.${id}.visitTriggers.${i}.status`;
    if (rule.status === LOST_STATUS) {
      problems.push(`${at}: 143 is amoCRM's "closed — lost": a visit moves a deal forward, never to a loss`);
      return;
    }
    const stage = triggerStage(funnel, src, rule);
    if (!stage) {
      problems.push(`${at}: status ${rule.status} is not mapped in pipeline ${rule.pipeline} of sources.${id}.pipelines; map it to a funnel stage, so that "forward" can be told`);
    } else if (stage.marker && NOT_A_TARGET.includes(stage.marker)) {
      problems.push(`${at}: its stage "${stage.name}" carries the ${stage.marker} marker; a visit moves a deal forward, never to a ${stage.marker} stage`);
    }
  });
  return problems;
}
