// Tilda sends a form by XHR from its own click handler and prevents the click,
// so no submit event ever fires; only its answer says the form was taken.
// Tilda's forms script (tilda-forms-1.0.min.js) then fires `tildaform:aftersuccess`
// on the form as a native event that bubbles (t_triggerEvent: initEvent(name,
// true, false)), before it clears the visitor's entries: the lead is reported
// there, once per accepted submission, never for a click that failed validation
// or an answer with an error. The core fills the forms (Zero Block forms, which
// appear late, too) by its scan; nothing else is needed here.
import type { Inner } from './inner.js';

// Heard on window, where the bubbling event ends. A function that returns
// x.o's result, not a block: terser then makes it an arrow without braces (an
// exported arrow const stays a variable of its own and costs more).
export function tilda(x: Inner) {
  return x.o(window, 'tildaform:aftersuccess', (e) => x.l(e.target as Element));
}
