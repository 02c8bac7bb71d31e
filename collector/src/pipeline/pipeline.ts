// The hit pipeline: an ordered list of small steps (Plausible's ingestion model).
// Each step reads and fills the context, or drops the hit with a named reason.
// Only `limits` talks to Redis; every other step is synchronous. It runs beside
// the journal write (LATE_STEPS), not before it.
import type { HitContext, PipelineDeps, Step } from './context.js';
import type { Drop } from './reasons.js';
import { bot } from './steps/bot.js';
import { contacts } from './steps/contacts.js';
import { enrich } from './steps/enrich.js';
import { limits } from './steps/limits.js';
import { parse } from './steps/parse.js';
import { privacy } from './steps/privacy.js';
import { site } from './steps/site.js';
import { validate } from './steps/validate.js';

/** Decided before the hit is acknowledged: a drop here is the answer to the request. */
export const STEPS: readonly Step[] = [parse, validate, site, bot, privacy, contacts, enrich];

/**
 * Decided while the hit is being made durable, so Redis's answer does not delay
 * the acknowledgement: a drop here keeps the hit out of the batch (answered 204).
 */
export const LATE_STEPS: readonly Step[] = [limits];

/** Runs the steps in order; resolves with the first drop, or null when the hit passed them all. */
export async function runPipeline(ctx: HitContext, deps: PipelineDeps, steps: readonly Step[] = STEPS): Promise<Drop | null> {
  for (const step of steps) {
    let r = step(ctx, deps);
    if (r instanceof Promise) r = await r;
    if (r) return r;
  }
  return null;
}
