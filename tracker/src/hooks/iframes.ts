// Forms inside same-origin iframes. HubSpot's legacy embed writes its form into
// an src-less iframe (iframe.hs-form-iframe), late; other widgets use srcdoc or
// a page of the site. The core fills and watches only the top document, so each
// same-origin frame (nested ones too) is handled here as the core handles the
// page: its forms filled now and every 300 ms, its submits reported as leads,
// by the submit event and by form.submit(). A cross-origin frame has no
// contentDocument for us and is skipped. So is a frame that runs its own
// tracker (a page of the site in a frame): it fills and reports its own forms,
// and ours would count each submission twice, since the core's
// once-per-submission mark lives in each realm's view of the form. It is asked
// at submit time too: the frame's tracker may load after we hooked the frame.
import type { Inner } from './inner.js';

export function iframes(x: Inner): void {
  const seen = new WeakSet<object>();
  /** Truthy only the first time it is given an object: each root and each realm is hooked once. */
  const fresh = (o: object) => !seen.has(o) && seen.add(o);
  const own = (d: Document) => (d.defaultView as Window & { throughline?: unknown }).throughline;
  const submitted = (form: HTMLFormElement) => own(form.ownerDocument) || (x.f(form), x.l(form));
  const scan = (d: Document) => {
    for (const frame of d.querySelectorAll('iframe')) {
      const doc = frame.contentDocument;
      if (doc) {
        try {
          if (!own(doc)) {
            // document.open() (how an embed writes its frame) erases the
            // document's listeners but brings a new root element: the listener
            // sits on the root, so a rewritten frame is watched again.
            const root = doc.documentElement;
            if (fresh(root)) x.o(root, 'submit', (e) => submitted(e.target as HTMLFormElement), true);
            // The frame's own realm: its forms' submit() is its prototype's.
            const proto = (doc.defaultView as typeof window).HTMLFormElement.prototype;
            if (fresh(proto)) {
              const submit = proto.submit;
              proto.submit = function () {
                try {
                  submitted(this);
                } catch {
                  // the page's submit() goes on whatever we do
                }
                submit.call(this);
              };
            }
            for (const form of doc.forms) x.f(form);
            scan(doc);
          }
        } catch {
          // nothing into the page from a timer; a frame between documents
          // (no root yet) is taken at the next scan
        }
      }
    }
  };
  scan(document);
  setInterval(scan, 300, document);
}
