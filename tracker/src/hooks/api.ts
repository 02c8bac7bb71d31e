// The page API for apps and widgets (README, "Page API"):
//   throughline('ids')              the values by field name, or undefined
//                                   until the visitor id is settled
//   throughline('ids', callback)    callback(values), once they are
// The core keeps such calls (made before it loaded, through the README's
// queue snippet, or after) in `throughline.q` and loads h.js when it sees one; from
// here on the function answers them itself. Other commands (consent, optout,
// optin) stay the core's.
import type { Inner, PageApi } from './inner.js';

type Callback = (ids: Record<string, string>) => void;

export function api(x: Inner): void {
  const w = window as unknown as { throughline: PageApi };
  const core = w.throughline;
  // The values are known by now: h.js comes once the visitor id is settled.
  const answer = ((command: string, callback?: Callback) => (command != 'ids' ? core(command) : (callback?.(x.v()), x.v()))) as PageApi;
  answer.x = x;
  w.throughline = answer;
  // Each queued call on its own: a page's callback that throws spoils no other.
  for (const args of core.q || []) {
    try {
      answer(...(args as unknown as [string, Callback?]));
    } catch {
      // the page's callback, not ours to pass on
    }
  }
}
