// Forms inside same-origin iframes. HubSpot's legacy embed writes its form into
// an src-less iframe (iframe.hs-form-iframe), late; other widgets use srcdoc or
// a page of the site. The core fills and watches only the top document, so each
// same-origin frame (nested ones too) is handled here as the core handles the
// page: its forms filled now and every 300 ms, its submits reported as leads,
// by the submit event and by form.submit(). A cross-origin frame has no
// contentDocument for us and is skipped. So is a frame that runs its own
// tracker (a page of the site in a frame): it fills and reports its own forms,
// with its own settings and page address, and ours could count each submission
// twice (the core's once-per-submission mark is an expando on the form, which
// Chromium shares between same-origin realms, but nothing promises that). It is
// asked at submit time too: the frame's tracker may load after we hooked the frame.
//
// Why not the `formdata` event, which form.submit() fires too (57 B less than
// the prototype's submit below)? `new FormData(form)` fires it as well, outside
// any submission: Contact Form 7 builds one when it starts and when it resets
// after a send, so a framed CF7 form would give leads no visitor sent.
import type { Inner } from './inner.js';

/** What we read of a frame: its window (the frame's own tracker, its realm's form prototype). */
type Frame = Document & { defaultView: Window & typeof globalThis & { throughline?: unknown } };
/** A realm's form prototype; `T` keeps its own submit(), and says that realm is hooked. */
type Proto = HTMLFormElement & { T?: () => void };

export function iframes(x: Inner): void {
  /** Fill and report a framed form, unless its frame runs a tracker; guarded: it runs inside the page's submit. */
  const lead = (form: HTMLFormElement) => {
    try {
      (form.ownerDocument as Frame).defaultView.throughline || (x.f(form), x.l(form));
    } catch {
      // the page's submit goes on whatever we do
    }
  };
  // One function for every frame: adding it again is a no-op, so each scan
  // adds it with no mark of ours. document.open() (how an embed writes its
  // frame) erases the document's listeners: the next scan adds it back.
  const submitted = (e: Event) => lead(e.target as HTMLFormElement);
  const scan = (d: Document = document) => {
    for (const frame of d.querySelectorAll('iframe')) {
      const doc = frame.contentDocument as Frame | null;
      if (doc && !doc.defaultView.throughline) {
        doc.addEventListener('submit', submitted, true);
        // The frame's own realm: its forms' submit() is its prototype's.
        const proto: Proto = doc.defaultView.HTMLFormElement.prototype;
        proto.T ||
          ((proto.T = proto.submit),
          (proto.submit = function () {
            lead(this);
            proto.T!.call(this);
          }));
        for (const form of doc.forms) x.f(form);
        scan(doc);
      }
    }
  };
  // The shared scan (now, then three times a second) is guarded: nothing here
  // needs a try of its own, a frame that throws is taken at the next scan.
  x.s.push(scan);
}
