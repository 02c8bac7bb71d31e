// Builders that keep their own state (React and Formik, Vue's v-model,
// HubSpot's React forms) never read the DOM at submit: they take a value in
// from an `input` or `change` event. React also replaces the element's own
// `value` setter with one that records the value as already known, so a plain
// write is reverted at its next render; the prototype's setter is the one a
// person typing goes through. React follows input events only on text-like
// inputs, so a hidden one is a text input while its events fire. From here on,
// the core sets values this way.
import type { Inner } from './inner.js';

export function events(x: Inner): void {
  x.e = (el, value) => {
    const hidden = el.type == 'hidden';
    if (hidden) el.type = 'text';
    Object.getOwnPropertyDescriptor(el.constructor.prototype, 'value')!.set!.call(el, value);
    for (const type of ['input', 'change']) el.dispatchEvent(new Event(type, { bubbles: true }));
    if (hidden) el.type = 'hidden';
  };
}
