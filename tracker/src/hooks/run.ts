// How h.js and c.js start, each with its own hooks: one timer for the file's
// scans (forms in frames, links, widgets that appear late), three times a
// second like the core's, each scan guarded on its own, and the first scan at
// once (a link is tagged before the visitor can click it).
import { inner, type Inner } from './inner.js';

export function run(hooks: ((x: Inner) => void)[]): void {
  const x = inner();
  // The file's own list: hooks add their scans while they start, so the other
  // file's list, if it came first, is left to its own timer.
  const scans: (() => void)[] = (x.s = []);
  const scan = () => {
    for (const each of scans) {
      try {
        each();
      } catch {
        // taken again at the next scan
      }
    }
  };
  setInterval(scan, 300);
  for (const hook of hooks) {
    try {
      hook(x);
    } catch {
      // a hook that fails leaves the page and the other hooks alone
    }
  }
  scan();
}
