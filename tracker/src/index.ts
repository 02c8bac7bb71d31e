// Throughline tracker: the one script a site includes.
//   <script async src="https://collector.example/t.js" data-site="my-site"></script>
// This file only wires the modules to the page; the rules live in the modules.
// Every entry point from the page (events, the watcher, the public function) runs
// inside `guard`, so nothing the tracker does can throw into the host page.
import { collectorBase, type Config } from './config.js';
import { getCookie, setCookie } from './cookies.js';
import { fieldValues, fillForm, leadProps } from './forms.js';
import { gaClientId, visitorId, ymUid } from './ids.js';
import { plusAddresses, tagMailto } from './mailto.js';
import { automated, CONSENT_COOKIE, OPT_OUT_COOKIE, privacySignal } from './manners.js';
import { shouldSendVisit } from './throttle.js';
import { nextTouches, type Touch } from './touches.js';
import { send, type Hit } from './transport.js';

const w = window as unknown as Window & { throughline?: (command: string) => void };
const d = document;
const loc = location;
const on = <E extends Event>(target: EventTarget, type: string, fn: (e: E) => unknown, capture?: boolean) =>
  target.addEventListener(type, guard(fn) as EventListener, capture);

function guard<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => void {
  return (...a) => {
    try {
      fn(...a);
    } catch {
      // never into the host page
    }
  };
}

function start(config: Config, base: string): void {
  const days = +config.days! || 90; // lifetime of the touches
  let vid = '';
  let ref = d.referrer;
  let href = loc.href;
  const keep = (name: string, t?: Touch) => t && setCookie(name, t, days);
  const ids = () => ({ v: vid, g: gaClientId(getCookie(config.gaCookie || '_ga')), y: ymUid(getCookie('_ym_uid')) });
  const hit = (k: Hit['k'], p?: Record<string, string>) =>
    send(base, { s: config.site || loc.hostname, k, e: ('' + Math.random()).slice(2) + Date.now(), t: Date.now(), u: loc.href, r: ref, ...ids(), p });

  const fill = (form: HTMLFormElement) => fillForm(form, fieldValues(ids(), getCookie('tl_ft'), getCookie('tl_lt')), config);
  const link = (a: HTMLAnchorElement | HTMLAreaElement) => {
    const tagged = tagMailto(a.href, vid, config.mailto == 'plus');
    if (vid && tagged != a.href) a.href = tagged;
  };
  const scan = () => {
    for (const f of d.forms) guard(fill)(f);
    for (const a of d.links) guard(link)(a);
  };
  const submitted = guard((form: HTMLFormElement) => {
    fill(form);
    hit('lead', leadProps(form));
  });

  const visit = guard(() => {
    const now = Date.now();
    const [first, last, fresh] = nextTouches(getCookie('tl_ft'), getCookie('tl_lt'), loc.href.slice(0, 1e3) + ' ' + ref.slice(0, 500), loc.host);
    keep('tl_ft', first);
    keep('tl_lt', last);
    if (shouldSendVisit(+getCookie('tl_vt')!, now, fresh)) {
      setCookie('tl_vt', now, 1);
      hit('visit');
    }
    scan();
  });

  // The visitor id: kept in a cookie (renewed on every page), asked from the
  // collector once. Without one the tracker still runs, only without the id.
  const known = visitorId(getCookie('tl_vid'));
  Promise.resolve(known || fetch(base + 'vid').then((r) => r.text()))
    .catch(() => '')
    .then(
      guard((text: string) => {
        vid = visitorId(text);
        if (vid) setCookie('tl_vid', vid, 400);
        visit();
        on(d, 'submit', (e) => submitted(e.target as HTMLFormElement), true);
        // form.submit() fires no submit event: fill and report on that path too.
        const proto = HTMLFormElement.prototype;
        const submit = proto.submit;
        proto.submit = function () {
          submitted(this);
          submit.call(this);
        };
        on(
          d,
          'click',
          (e) => {
            const a = (e.target as Element).closest('a')!;
            if (/^tel:/i.test(a.href)) hit('tel', { tel: decodeURIComponent(a.href.slice(4)) });
          },
          true,
        );
        if (vid && config.mailto == 'plus') {
          on(d, 'copy', (e: ClipboardEvent) => {
            const text = '' + getSelection();
            const tagged = plusAddresses(text, vid);
            if (tagged != text) {
              e.clipboardData!.setData('text/plain', tagged);
              e.preventDefault();
            }
          });
        }
        // Watching the page three times a second catches, in fewer bytes than
        // wrapping history methods and observing mutations: single-page-app
        // navigation (pushState, replaceState, popstate, hash links; the previous
        // address becomes the referrer), and forms and links added by scripts. A
        // form submitted before its first scan is filled by the submit hooks.
        setInterval(
          guard(() => {
            if (loc.href != href) {
              ref = href;
              href = loc.href;
              visit();
            }
            scan();
          }),
          300,
        );
        // A page restored from the back/forward cache is a visit (the throttle decides).
        on(w, 'pageshow', (e: PageTransitionEvent) => e.persisted && visit());
      }),
    );
}

// Start: read the configuration and run, unless consent is awaited, a privacy
// signal is honoured, or the visitor opted out. The page's switch,
// throughline('consent' | 'optout' | 'optin'), keeps its answer in a cookie,
// so the next pages know it before any script of the page has run.
guard(() => {
  const script = d.currentScript as HTMLScriptElement;
  const config: Config = script.dataset;
  let started = 0;
  const go = () => {
    if (!started && !(config.consent == 'wait' && !getCookie(CONSENT_COOKIE)) && !automated() && !(config.dnt != null && privacySignal()) && !getCookie(OPT_OUT_COOKIE)) {
      started = 1;
      start(config, collectorBase(script.src));
    }
  };
  w.throughline = guard((command: string) => {
    setCookie(command == 'consent' ? CONSENT_COOKIE : OPT_OUT_COOKIE, 1, command == 'optin' ? -1 : 400);
    go();
  });
  go();
})();
