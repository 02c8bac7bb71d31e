// h.js: the platform hooks, loaded by the core only on pages where a platform
// is seen (tracker/src/index.ts names the signs). Each hook is one module; each
// runs once, guarded, and watches for what its platform adds later.
import { api } from './api.js';
import { bitrix24 } from './bitrix24.js';
import { chats } from './chats.js';
import { contacts } from './contacts.js';
import { events } from './events.js';
import { iframes } from './iframes.js';
import { inner, type Inner } from './inner.js';
import { tilda } from './tilda.js';

const x = inner();
// What the hooks share, made here so the core carries none of it.
x.v = () => {
  const values = x.c();
  const named: Record<string, string> = {};
  x.n.forEach((name, i) => values[i] && (named[name] = values[i]!));
  return named;
};
x.o = (target, type, fn, capture) =>
  target.addEventListener(
    type,
    (e) => {
      try {
        fn(e as never);
      } catch {
        // never into the host page
      }
    },
    capture,
  );
// One timer for the hooks' scans (forms in frames, links, widgets that appear
// late), three times a second like the core's; each scan guarded on its own.
x.s = [];
const scan = () => {
  for (const each of x.s) {
    try {
      each();
    } catch {
      // taken again at the next scan
    }
  }
};
setInterval(scan, 300);
for (const hook of [events, api, contacts, iframes, tilda, bitrix24, chats] as ((x: Inner) => void)[]) {
  try {
    hook(x);
  } catch {
    // a hook that fails leaves the page and the other hooks alone
  }
}
// The first scan at once: a link is tagged before the visitor can click it.
scan();
