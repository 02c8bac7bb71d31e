// Throughline tracker: the one script a site includes.
//   <script async src="https://collector.example/t.js" data-site="my-site"></script>
// This file only wires the modules to the page; the rules live in the modules.
// Every entry point from the page (events, observers, the public function) runs
// inside `guard`, so nothing the tracker does can throw into the host page.
import { readConfig, type Config } from './config.js';
import { getCookie, setCookie } from './cookies.js';
import { fieldValues, fillForm, leadProps } from './forms.js';
import { gaClientId, visitorId, ymUid } from './ids.js';
import { tagEmails, tagMailto } from './mailto.js';
import { automated, OPT_OUT_COOKIE, privacySignal } from './manners.js';
import { shouldSendVisit } from './throttle.js';
import { nextTouches, parseTouch, type Touch } from './touches.js';
import { send, type Hit } from './transport.js';

type Api = ((command: string) => void) & { q?: IArguments[] };
const w = window as unknown as Window & { throughline?: Api };
const d = document;
const loc = location;
const on = (target: EventTarget, type: string, fn: (e: any) => void, capture?: boolean) => target.addEventListener(type, guard(fn), capture);

function guard<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => void {
  return (...a) => {
    try {
      fn(...a);
    } catch {
      // never into the host page
    }
  };
}

function start([base, site, mailto, gaCookie, days, , , field]: Config): void {
  let vid = '';
  let ref = d.referrer;
  let href = loc.href;
  const touch = (name: string) => parseTouch(getCookie(name));
  const keep = (name: string, t?: Touch) => t && setCookie(name, JSON.stringify(t), days);
  const ids = () => ({ v: vid, g: gaClientId(getCookie(gaCookie)), y: ymUid(getCookie('_ym_uid')) });
  const hit = (k: Hit['k'], p?: Record<string, string>) =>
    send(base, { s: site, k, e: Math.random().toString(36).slice(2) + Date.now(), t: Date.now(), u: loc.href, r: ref, ...ids(), p });

  const fill = (form: HTMLFormElement) => fillForm(form, fieldValues(ids(), touch('tl_ft'), touch('tl_lt')), field);
  const link = (a: HTMLAnchorElement | HTMLAreaElement) => {
    const tagged = tagMailto(a.href, vid, mailto == 'plus');
    if (vid && mailto != 'off' && tagged != a.href) a.href = tagged;
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
    const next = nextTouches(touch('tl_ft'), touch('tl_lt'), { l: loc.href.slice(0, 1e3), r: ref.slice(0, 500) }, loc.host);
    keep('tl_ft', next.f);
    keep('tl_lt', next.l);
    if (shouldSendVisit(+getCookie('tl_vt')!, now, next.n)) {
      setCookie('tl_vt', now, 1);
      hit('visit');
    }
    scan();
  });
  // Single-page-app navigation: the previous address becomes the referrer.
  const navigated = () => {
    if (loc.href != href) {
      ref = href;
      href = loc.href;
      visit();
    }
  };

  const run = () => {
    visit();
    new MutationObserver(guard(scan)).observe(d, { childList: true, subtree: true });
    on(d, 'submit', (e) => submitted(e.target), true);
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
        const a = e.target.closest('a');
        link(a);
        if (/^tel:/i.test(a.href)) hit('tel', { tel: decodeURIComponent(a.href.slice(4)) });
      },
      true,
    );
    if (vid && mailto == 'plus') {
      on(d, 'copy', (e: ClipboardEvent) => {
        const text = '' + getSelection();
        const tagged = tagEmails(text, vid);
        if (tagged != text) {
          e.clipboardData!.setData('text/plain', tagged);
          e.preventDefault();
        }
      });
    }
    for (const name of ['pushState', 'replaceState'] as const) {
      const orig = history[name];
      history[name] = function (...a) {
        orig.apply(this, a);
        navigated();
      };
    }
    on(w, 'popstate', navigated);
    // A page restored from the back/forward cache is a visit (the throttle decides).
    on(w, 'pageshow', (e) => e.persisted && visit());
  };

  // The visitor id: kept in a cookie, asked from the collector once.
  vid = visitorId(getCookie('tl_vid'));
  if (vid || !navigator.cookieEnabled) run();
  else
    fetch(base + 'vid')
      .then((r) => r.text())
      .catch(() => '')
      .then(
        guard((text: string) => {
          vid = visitorId(text);
          if (vid) setCookie('tl_vid', vid, 400);
          run();
        }),
      );
}

// Start: read the configuration, take the queued commands of the page, and run
// unless consent is awaited, a privacy signal is honoured or the visitor opted out.
guard(() => {
  const config = readConfig(d.currentScript as HTMLScriptElement, loc.hostname);
  let started = 0;
  const go = () => {
    if (!started && !config[6] && !automated(w) && !(config[5] && privacySignal(navigator)) && !getCookie(OPT_OUT_COOKIE)) {
      started = 1;
      start(config);
    }
  };
  const queued = w.throughline?.q || [];
  // The page's switch: throughline('consent' | 'optout' | 'optin').
  const api = (w.throughline = guard((command: string) => {
    if (command == 'consent') config[6] = false;
    if (/^opt/.test(command)) setCookie(OPT_OUT_COOKIE, 1, command == 'optout' ? 400 : -1);
    go();
  }));

  for (const a of queued) api(a[0]);
  go();
})();
