// Bitrix24 CRM forms send their own model, not the DOM: our values reach the
// CRM as the form's properties (form.setProperty, Bitrix24's documented way in).
import type { Inner } from './inner.js';

type Form = { setProperty(name: string, value: string): void };
type Claimed = Element & { tl?: number };
/** The forms' app (the loader's global): its registry holds every form made. */
declare const b24form: { App: { list(): Form[] } };
/** x.l, called with the clearing of the mark as a second argument: evaluated before the call. */
type Lead = (form: Element, _: number) => void;

export function bitrix24(x: Inner): void {
  // The last form submitted: the success event names the form's model, not its
  // element, and the lead's phone and e-mail are read from the element. Taken at
  // every submit, not only Bitrix's (3 B less): another form sent in the moment
  // before Bitrix answers would be reported in its place.
  let f: Claimed;
  const set = () => {
    const v = x.v();
    for (const k in v) for (const form of b24form.App.list()) form.setProperty(k, v[k]!);
  };
  // By the shared scan (at once, then three times a second): forms made before
  // the hooks (b24:form:init is gone then) and after (b24:form:init fires before
  // the form is in the registry), within 300 ms; it throws harmlessly until the
  // app is there (after x.v(): reading the registry first costs 2 B more). Not a b24:form:init listener: it cost 13 B more and adds
  // nothing the CRM sees, as every send sets them again at its submit (below).
  x.s.push(set);
  x.o(window, 'b24:form:send:success', () => (x.l as Lead)(f, (f.tl = 0)));
  // The form is a real <form> whose submit event fires on every attempt, valid
  // or not, and the core reports a lead per submit event. A capture listener on
  // window runs before the core's on document and before Bitrix's own, which
  // serialises the properties: they are set again (a campaign that changed since
  // goes too), and the form's `tl` (the core's once-per-2-s mark) is put far
  // ahead, so the core reports nothing; Bitrix's success event above clears it
  // and reports the lead, once per accepted send.
  x.o(window, 'submit', (e) => (f = e.target as Claimed).closest('.b24-form') && (set(), (f.tl = 1 / 0)), true);
}
