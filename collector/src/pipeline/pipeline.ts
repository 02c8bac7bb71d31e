// The hit pipeline: an ordered list of small steps (Plausible's ingestion model).
// Each step reads and fills the context, or drops the hit with a named reason.
// Every step is synchronous: a hit goes from its body to its row in one call,
// with no promise or microtask per step (this is the hot path of every visit).
// The one check that needs Redis — the visit throttle and rate limit
// (steps/limits.ts) — is asked after the steps, beside the journal write, so
// Redis's answer does not delay the acknowledgement.
import type { HitContext, PipelineDeps, Step } from './context.js';
import type { Drop } from './reasons.js';
import { bot } from './steps/bot.js';
import { contacts } from './steps/contacts.js';
import { enrich } from './steps/enrich.js';
import { parse } from './steps/parse.js';
import { privacy } from './steps/privacy.js';
import { site } from './steps/site.js';
import { validate } from './steps/validate.js';

/** Decided before the hit is acknowledged: a drop here is the answer to the request. */
export const STEPS: readonly Step[] = [parse, validate, site, bot, privacy, contacts, enrich];

/** Runs the steps in order; returns the first drop, or null when the hit passed them all. */
export function runPipeline(ctx: HitContext, deps: PipelineDeps, steps: readonly Step[] = STEPS): Drop | null {
  for (const step of steps) {
    const r = step(ctx, deps);
    if (r) return r;
  }
  return null;
}
