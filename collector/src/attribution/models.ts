// The six attribution models, one small function each. A model turns a
// conversion's ordered touches into raw weights, written as a ClickHouse array
// expression over the columns the credit SQL (credits-sql.ts) provides:
//   chs      Array(String)    channel of each touch, oldest first
//   tss      Array(DateTime)  time of each touch (whole seconds)
//   mss      Array(UInt16)    the milliseconds of each touch's time
//   conv_tss Array(DateTime)  time of the conversion (deal creation, form lead), once per touch
// Weights need not sum to 1: credits-sql.ts normalises them and splits money.
// A model whose weights are rational gives them as whole numbers over their
// common denominator (`exact`), so the money is split in integer arithmetic, to
// the kopeck; only time decay, whose weights are real, gives Float64 weights.
// A conversion without touches reaches the models as one '(unattributed)' touch
// at the conversion time, which every model credits fully.
import { str } from '../clickhouse/sql.js';

export type ModelName = 'first_click' | 'last_click' | 'last_non_direct' | 'linear' | 'position_based' | 'time_decay';

export const DEFAULT_MODEL: ModelName = 'last_non_direct';

/** The channel whose visits last-non-direct passes over (classify.ts's 'direct'). */
export const DIRECT = 'direct';

/** Time-decay half-life: a touch 7 days before the conversion weighs half as much. */
export const HALF_LIFE_MS = 7 * 24 * 3600 * 1000;

/**
 * `exact`: the weights are an Array(UInt64) of numerators over their sum (the
 * split is then exact integer arithmetic); otherwise an Array(Float64).
 */
type Model = { label: string; exact: boolean; weights: () => string };

const each = (body: string) => `arrayMap(i -> toUInt64(${body}), arrayEnumerate(chs))`;

export const MODELS: Record<ModelName, Model> = {
  first_click: { label: 'First click', exact: true, weights: () => each('i = 1') },
  last_click: { label: 'Last click', exact: true, weights: () => each('i = length(chs)') },
  // Direct touches inherit the last non-direct one; an all-direct path credits its last touch.
  last_non_direct: {
    label: 'Last non-direct click',
    exact: true,
    weights: () =>
      each(
        `i = if(arrayExists(c -> c != ${str(DIRECT)}, chs), ` +
          `toInt64(length(chs) + 1) - toInt64(arrayFirstIndex(c -> c != ${str(DIRECT)}, arrayReverse(chs))), toInt64(length(chs)))`,
      ),
  },
  linear: { label: 'Linear', exact: true, weights: () => each('1') },
  // 40% first, 40% last, 20% over the middle; one touch 100%, two touches 50/50.
  // Over n > 2 touches that is 2(n−2) : 1 : … : 1 : 2(n−2), in all 5(n−2).
  position_based: {
    label: 'Position-based (40/20/40)',
    exact: true,
    weights: () => each('if(length(chs) <= 2, 1, if(i = 1 OR i = length(chs), 2 * (length(chs) - 2), 1))'),
  },
  // Δt in milliseconds: two visits in the same second weigh as far apart as they are.
  time_decay: {
    label: 'Time decay (7-day half-life)',
    exact: false,
    weights: () =>
      `arrayMap((t, m, c) -> pow(2., ((toFloat64(t) - toFloat64(c)) * 1000. + m) / ${HALF_LIFE_MS}.), tss, mss, conv_tss)`,
  },
};

export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

export function isModelName(x: string): x is ModelName {
  return Object.hasOwn(MODELS, x);
}
