// The funnel rules, in one place. Given where a deal was (its previous version)
// and the stage it moves to, what has it passed and what is its outcome?
//
//   stage with no marker  outcome open; the stage is added to the stages passed.
//   Won                   outcome won: the amount is revenue. Every earlier stage
//                         without a marker counts as passed, even if skipped.
//   Lost                  outcome lost: nothing is back-filled; lost_from_stage is
//                         the stage the deal was in when it was lost (the stage of
//                         the CRM's previous status when Throughline never saw it).
//   Returned              outcome returned: the sale was undone, its revenue is
//                         reversed (reports count revenue only for outcome won).
//   Paused                outcome paused: parked; neither revenue nor a refusal.
// stages_passed only grows over a deal's history, whatever it does later.
import type { Funnel, Stage } from '../config/schema.js';
import type { StageTarget } from './mapping.js';

export type Outcome = 'open' | 'won' | 'lost' | 'returned' | 'paused';

export type FunnelState = {
  stage: string;
  stageIndex: number;
  outcome: Outcome;
  stagesPassed: string[];
  lostFromStage: string;
};

export const NO_STATE: FunnelState = { stage: '', stageIndex: -1, outcome: 'open', stagesPassed: [], lostFromStage: '' };

function outcomeOf(stage: Stage | null, vendorOutcome: StageTarget['vendorOutcome']): Outcome {
  if (stage?.marker) return stage.marker;
  // An unmapped status that the CRM itself calls won or lost, with no such stage in the funnel.
  if (!stage && vendorOutcome !== 'open') return vendorOutcome;
  return 'open';
}

/**
 * `cameFrom` is the stage the CRM says the deal left in this change, when it
 * says so: for a deal Throughline never saw in a stage (no previous version, or
 * one with no stage), that is where the deal was, so it is passed and it is the
 * stage a loss is from.
 */
export function advance(funnel: Funnel, prev: FunnelState | null, target: StageTarget, cameFrom: Stage | null = null): FunnelState {
  const stage = target.stage;
  const outcome = outcomeOf(stage, target.vendorOutcome);
  const passed = new Set(prev?.stagesPassed ?? []);
  const unseen = !prev?.stage;
  const from = unseen && cameFrom && !cameFrom.marker ? cameFrom.name : '';
  if (from) passed.add(from);
  if (stage) passed.add(stage.name);
  if (outcome === 'won') {
    const upTo = stage ? stage.index : Infinity;
    for (const s of funnel.stages) if (!s.marker && s.index < upTo) passed.add(s.name);
  }
  let lostFromStage = '';
  if (outcome === 'lost') lostFromStage = prev?.outcome === 'lost' ? prev.lostFromStage : from || (prev?.stage ?? '');
  const order = (name: string) => funnel.byName.get(name)?.index ?? Number.MAX_SAFE_INTEGER;
  return {
    stage: stage?.name ?? '',
    stageIndex: stage?.index ?? -1,
    outcome,
    stagesPassed: [...passed].sort((a, b) => order(a) - order(b) || a.localeCompare(b)),
    lostFromStage,
  };
}
