// The values by field name, which the hooks after it share (x.v): set by h.js,
// so the core carries no second form of them.
import type { Inner } from './inner.js';

export const values = (x: Inner) =>
  (x.v = (current = x.g()) => Object.fromEntries(x.n.map((name, i) => [name, current[i]]).filter((e) => e[1])) as Record<string, string>);
