// h.js: the platform hooks, loaded by the core only on pages where a platform
// is seen (tracker/src/index.ts names the signs). Each hook is one module; each
// runs once, guarded, and watches for what its platform adds later. `values`
// comes first: the others use what it sets.
import { api } from './api.js';
import { bitrix24 } from './bitrix24.js';
import { chats } from './chats.js';
import { events } from './events.js';
import { iframes } from './iframes.js';
import { run } from './run.js';
import { tilda } from './tilda.js';
import { values } from './values.js';

run([values, events, api, iframes, tilda, bitrix24, chats]);
