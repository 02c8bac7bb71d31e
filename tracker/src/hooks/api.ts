// The page API for apps and widgets (README, "Page API"):
//   throughline('ids')              the values by field name, or undefined
//                                   until the visitor id is settled
//   throughline('ids', callback)    callback(values), once they are
// The core keeps such calls (made before it loaded, through the README's
// stub, or after) in `throughline.q` and loads h.js when it sees one; from
// here on the function answers them itself. Other commands (consent, optout,
// optin) stay the core's.
import type { Inner, PageApi } from './inner.js';

type Callback = (ids: Record<string, string>) => void;

export function api(x: Inner): void {
  const w = window as unknown as { throughline: PageApi };
  const core = w.throughline;
  const answer = (command: string, callback?: Callback) => {
    if (command != 'ids') return core(command);
    const ids = x.v();
    if (callback) {
      try {
        callback(ids);
      } catch {
        // the page's callback throwing is the page's affair, not ours to pass on
      }
    }
    return ids;
  };
  const queued = core.q || [];
  w.throughline = Object.assign(answer as PageApi, { x, q: undefined });
  for (const args of queued) answer(...(args as unknown as [string, Callback?]));
}
