// c.js: the contact features, which a page without contact links does not pay
// for (the core loads c.js on the first mailto: or tel: link or `tl-code`
// element it sees). mailto: links carry the visitor id as a subject tag, or
// in plus mode (data-mailto="plus" on the tracker's tag) as plus-addressing,
// and addresses copied from the page are plus-tagged too; a click on a tel:
// link is a `tel` event; elements of class `tl-code` show the visitor id, for
// a caller to read out to a sales manager, who types it into the CRM's
// visitor-id field (README, "Phone sales"). Links and codes added later are
// taken at the next scan.
import { plusAddresses, plusMailto, tagMailto } from './mailto.js';
import type { Inner } from '../hooks/inner.js';
import { run } from '../hooks/run.js';

function contacts(x: Inner): void {
  const d = document;
  const plus = d.querySelector('script[data-mailto=plus]');
  // The id read once per scan: x.g() reads the cookies and parses the touch.
  x.s.push(() => {
    const v = x.g()[0];
    if (v) {
      for (const a of d.links) {
        const tagged = (plus ? plusMailto : tagMailto)(a.href, v);
        if (tagged != a.href) a.href = tagged;
      }
      for (const e of d.getElementsByClassName('tl-code')) if (e.textContent != v) e.textContent = v;
    }
  });
  x.o(
    d,
    'click',
    (e) => {
      const a = (e.target as Element).closest('a')!;
      if (/^tel:/i.test(a.href)) x.t('tel', { tel: decodeURIComponent(a.href.slice(4)) });
    },
    true,
  );
  if (plus) {
    // (no visitor id: plusAddresses throws, the guard keeps the copy as it is)
    x.o(d, 'copy', (e: ClipboardEvent) => {
      const text = '' + getSelection();
      const tagged = plusAddresses(text, x.g()[0]!);
      if (tagged != text) {
        e.clipboardData!.setData('text/plain', tagged);
        e.preventDefault();
      }
    });
  }
}

run([contacts]);
