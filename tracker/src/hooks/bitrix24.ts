// Bitrix24 CRM forms send their own model, not the DOM: our values reach the
// CRM as the form's properties (form.setProperty, Bitrix24's documented way in).
import type { Inner } from './inner.js';

type Form = { setProperty(name: string, value: string): void; getId(): string; node: Element };
type FormEvent = CustomEvent<{ object: Form }>;

export function bitrix24(x: Inner): void {
  const w = window as unknown as Window & { b24form?: { App?: { list(): Form[] } } };
  const set = (form: Form) => {
    const v = x.v();
    for (const k in v) form.setProperty(k, v[k]!);
  };
  // b24:form:init fires before the form's DOM exists and, when this script
  // comes later, before we listen: forms made earlier are in the app's registry.
  w.b24form?.App?.list().forEach(set);
  // Forms made later; and each submit, which Bitrix fires before it serialises
  // the properties, so a value that changed since (a new touch) goes too.
  for (const t of ['init', 'submit']) x.o(w, 'b24:form:' + t, (e: FormEvent) => set(e.detail.object));
  // The form is a real <form> whose submit event fires on every attempt, valid
  // or not, and the core reports a lead per submit event. A capture listener on
  // window runs before the core's on document: it stamps the form as just
  // reported (the core's once-per-2-s mark, `tl`), so the core reports nothing;
  // Bitrix's own success event reports the lead, once per accepted send.
  x.o(w, 'submit', (e) => (e.target as Element).closest('.b24-form') && ((e.target as Element & { tl?: number }).tl = 1e16), true);
  x.o(w, 'b24:form:send:success', (e: FormEvent) => {
    const o = e.detail.object;
    // The rendered <form> (its inputs give the lead's phone and e-mail); else the form's mount node.
    const form: Element & { tl?: number } = document.getElementById('b24-' + o.getId())?.querySelector('form') || o.node;
    form.tl = 0;
    x.l(form);
  });
}
