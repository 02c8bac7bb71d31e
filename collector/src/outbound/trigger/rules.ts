// The trigger's rules in force: every amoCRM source's visitTriggers of the CRM
// configuration the collector runs on (crm.config, which a change made through
// PUT /crm/config, the setup page or another collector replaces), with each
// pattern compiled and each status placed in the funnel. Compiled again only
// when the configuration in force is another one.
import type { AmoSource, LoadedConfig } from '../../crm/config/schema.js';
import { statusStage, triggerStage } from '../../crm/config/triggers.js';
import type { MatchedRule, StageOf } from './decide.js';
import { compilePattern, matchesPath, sqlPathRegex, type PagePattern } from './pattern.js';

export type SourceRules = { source: string; src: AmoSource; rules: (MatchedRule & { pattern: PagePattern })[]; stageOf: StageOf };

export type RulesInForce = {
  sources: SourceRules[];
  /** The narrowing of the visits' URLs for SQL (null: none narrows; see `any`). */
  urlRegex: string | null;
  /** Some rule exists. */
  any: boolean;
};

const compiled = new WeakMap<LoadedConfig, RulesInForce>();

export function rulesInForce(config: LoadedConfig): RulesInForce {
  const known = compiled.get(config);
  if (known) return known;
  const sources: SourceRules[] = [];
  for (const [source, src] of Object.entries(config.raw.sources)) {
    if (src.kind !== 'amocrm' || !src.visitTriggers.length) continue;
    const rules = src.visitTriggers.flatMap((r, index) => {
      // A configuration in force passed its check: every target has its stage.
      const stage = triggerStage(config.funnel, src, r);
      return stage ? [{ index, page: r.page, pipeline: r.pipeline, status: r.status, stage, pattern: compilePattern(r.page) }] : [];
    });
    sources.push({ source, src, rules, stageOf: (pipeline, status) => statusStage(config.funnel, src, pipeline, status) });
  }
  const patterns = sources.flatMap((s) => s.rules.map((r) => r.pattern));
  const out = { sources, urlRegex: sqlPathRegex(patterns), any: patterns.length > 0 };
  compiled.set(config, out);
  return out;
}

/** The rules of a source whose pattern matches the visited path. */
export const matching = (s: SourceRules, path: string): MatchedRule[] => s.rules.filter((r) => matchesPath(r.pattern, path));
