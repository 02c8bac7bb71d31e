// The six attribution models, one small function each. A model turns a
// conversion's ordered touches into raw weights, written as a ClickHouse array
// expression over the columns the credit SQL (credits-sql.ts) provides:
//   chs      Array(String)    channel of each touch, oldest first
//   tss      Array(DateTime)  time of each touch
//   conv_tss Array(DateTime)  time of the conversion (deal creation, form lead), once per touch
// Weights need not sum to 1: credits-sql.ts normalises them and splits money.
// A conversion without touches reaches the models as one '(unattributed)' touch
// at the conversion time, which every model credits fully.
import { str } from '../clickhouse/sql.js';

export type ModelName = 'first_click' | 'last_click' | 'last_non_direct' | 'linear' | 'position_based' | 'time_decay';

export const DEFAULT_MODEL: ModelName = 'last_non_direct';

/** The channel whose visits last-non-direct passes over (classify.ts's 'direct'). */
export const DIRECT = 'direct';

/** Time-decay half-life: a touch 7 days before the conversion weighs half as much. */
export const HALF_LIFE_SECONDS = 7 * 24 * 3600;

type Model = { label: string; weights: () => string };

const each = (body: string) => `arrayMap(i -> ${body}, arrayEnumerate(chs))`;

export const MODELS: Record<ModelName, Model> = {
  first_click: { label: 'First click', weights: () => each('toFloat64(i = 1)') },
  last_click: { label: 'Last click', weights: () => each('toFloat64(i = length(chs))') },
  // Direct touches inherit the last non-direct one; an all-direct path credits its last touch.
  last_non_direct: {
    label: 'Last non-direct click',
    weights: () =>
      each(
        `toFloat64(i = if(arrayExists(c -> c != ${str(DIRECT)}, chs), ` +
          `toInt64(length(chs) + 1) - toInt64(arrayFirstIndex(c -> c != ${str(DIRECT)}, arrayReverse(chs))), toInt64(length(chs))))`,
      ),
  },
  linear: { label: 'Linear', weights: () => each('1.') },
  // 40% first, 40% last, 20% over the middle; one touch 100%, two touches 50/50.
  position_based: {
    label: 'Position-based (40/20/40)',
    weights: () =>
      each('if(length(chs) <= 2, 1., if(i = 1 OR i = length(chs), 0.4, 0.2 / (length(chs) - 2)))'),
  },
  time_decay: {
    label: 'Time decay (7-day half-life)',
    weights: () => `arrayMap((t, c) -> pow(2., (toFloat64(t) - toFloat64(c)) / ${HALF_LIFE_SECONDS}.), tss, conv_tss)`,
  },
};

export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

export function isModelName(x: string): x is ModelName {
  return Object.hasOwn(MODELS, x);
}
