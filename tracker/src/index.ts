// Throughline tracker: the one script a site includes.
//   <script async src="https://collector.example/t.js" data-site="my-site"></script>
// This file only wires the modules to the page; the rules live in the modules.
// Every entry point from the page (events, the watcher, the public function) runs
// inside `guard`, so nothing the tracker does can throw into the host page.
import { collectorBase, type Config } from './config.js';
import { getCookie, setCookie } from './cookies.js';
import { FIELDS, fieldValues, fillForm, leadProps } from './forms.js';
import type { Inner, PageApi } from './hooks/inner.js';
import { gaClientId, VISITOR_ID_DAYS, visitorId, ymUid } from './ids.js';
import { automated, CONSENT_COOKIE, OPT_OUT_COOKIE, privacySignal } from './manners.js';
import { FIRST_PARTY } from './mode.js';
import { d, loc, w } from './page.js';
import { shouldSendVisit } from './throttle.js';
import { nextTouches, params, TOUCH_DAYS, TOUCH_HREF_MAX, TOUCH_REFERRER_MAX, UTM, type Touch } from './touches.js';
import { send, type Hit } from './transport.js';

const on = <E extends Event>(target: EventTarget, type: string, fn: (e: E) => unknown, capture?: boolean) =>
  target.addEventListener(type, guard(fn) as EventListener, capture);

function guard<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R | undefined {
  return (...a) => {
    try {
      return fn(...a);
    } catch {
      // never into the host page
    }
  };
}

function start(config: Config, base: string, api: PageApi): void {
  const days = +config.days! || TOUCH_DAYS; // lifetime of the touches
  let vid = '';
  let ref = d.referrer;
  let href = loc.href;
  const keep = (name: string, t?: Touch) => t && setCookie(name, t, days);
  const ids = () => ({ v: vid, g: gaClientId(getCookie(config.gaCookie || '_ga')), y: ymUid(getCookie('_ym_uid')) });
  const hit = (k: Hit['k'], p?: Record<string, string>) =>
    send(base, { s: config.site, k, e: ('' + Math.random()).slice(2) + Date.now(), t: Date.now(), u: loc.href, r: ref, ...ids(), p });

  const current = () => fieldValues(ids(), getCookie('tl_ft'), getCookie('tl_lt'));
  const fill = (form: HTMLFormElement) => fillForm(form, current(), config, x.e);
  // One lead per submission: a platform that submits by two paths (a submit
  // event, then form.submit(); a click, then its own success event) reports the
  // same element twice within moments.
  const lead = (el: Element & { tl?: number }) => {
    if (!(el.tl! > Date.now() - 2e3)) {
      el.tl = Date.now();
      hit('lead', leadProps(el as HTMLFormElement));
    }
  };
  const scan = () => {
    for (const f of d.forms) guard(fill)(f);
    // What the core loads where it is needed, by the signs a page shows, checked at
    // every scan, as platforms and links appear late (each file once):
    // - h.js, the platform hooks (tracker/src/hooks/), which know what the DOM does
    //   not show: an iframe (embedded forms, a vendor's form frame), the mount
    //   points of React and Vue apps (#root, #app: their forms keep state the DOM
    //   does not), Tilda's and Bitrix24's forms, Jivo's and Carrot quest's
    //   scripts, or a page API call left to them (`*`: any page).
    // - c.js, the contact features (tracker/src/contacts/): mailto: and tel: links
    //   and the visitor code's elements.
    for (const [file, sign] of [
      ['h', api.q ? '*' : 'iframe,#root,#app,.t-form,.b24-form,[src*=jivo],[src*=carrot]'],
      ['c', '.tl-code,[href^=tel i],[href^=mail i]'],
    ])
      if (!x[file as 'h'] && d.querySelector(sign!)) {
        x[file as 'h'] = 1;
        d.head.append(Object.assign(d.createElement('script'), { src: base + file + '.js' }));
      }
  };
  const x: Inner = (api.x = { f: fill, l: lead, g: current, t: hit, o: on, n: FIELDS } as Inner);
  const submitted = guard((form: HTMLFormElement) => {
    fill(form);
    lead(form);
  });

  const visit = guard(() => {
    const now = Date.now();
    const [first, last, fresh] = nextTouches(getCookie('tl_ft'), getCookie('tl_lt'), loc.href.slice(0, TOUCH_HREF_MAX) + ' ' + ref.slice(0, TOUCH_REFERRER_MAX), loc.host);
    keep('tl_ft', first);
    if (last) {
      keep('tl_lt', last);
      // The last touch's UTM tags as the cookies other tools read (amoCRM's form loader, CRM plugins); a tag it lacks is removed.
      const tags = params(last);
      for (const tag of UTM) setCookie(tag, tags.get(tag)!, tags.get(tag) ? days : -1); // (a tag it lacks: written "null" and expired at once)
    }
    if (shouldSendVisit(+getCookie('tl_vt')!, now, fresh)) {
      setCookie('tl_vt', now, 1);
      hit('visit');
    }
    // First-party mode: a new last touch the throttle holds back (a landing from
    // another site without a campaign, within the visit window) is sent all the
    // same, without restarting the window: the collector's answer sets it at its
    // full lifetime, and the collector's own throttle, whose window began with
    // the same visit, drops the visit.
    else if (FIRST_PARTY && last) hit('visit');
    scan();
  });

  // The visitor id: kept in a cookie (renewed on every page; in first-party mode
  // by the collector's answers), asked from the collector once, with the GA and
  // Metrika ids, by which it gives a visitor whose cookie was lost the old id.
  // Without one the tracker still runs, only without the id.
  const known = visitorId(getCookie('tl_vid'));
  Promise.resolve(known || fetch(base + 'vid?' + new URLSearchParams(ids())).then((r) => r.text()))
    .catch(() => '')
    .then(
      guard((text: string) => {
        vid = visitorId(text);
        if (vid && !FIRST_PARTY) setCookie('tl_vid', vid, VISITOR_ID_DAYS);
        visit();
        on(d, 'submit', (e) => submitted(e.target as HTMLFormElement), true);
        // form.submit() fires no submit event: fill and report on that path too.
        const proto = HTMLFormElement.prototype;
        const submit = proto.submit;
        proto.submit = function () {
          submitted(this);
          submit.call(this);
        };
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
// so the next pages know it before any script of the page has run. Calls the
// page queued before the script loaded (README's queue snippet) are run in order.
guard(() => {
  const script = d.currentScript as HTMLScriptElement;
  const config: Config = script.dataset;
  const queued = w.throughline?.q || [];
  let started = 0;
  const go = () => {
    if (!started && !(config.consent == 'wait' && !getCookie(CONSENT_COOKIE)) && !automated() && !(config.dnt != null && privacySignal()) && !getCookie(OPT_OUT_COOKIE)) {
      started = 1;
      start(config, collectorBase(script.src), api);
    }
  };
  const api: PageApi = (w.throughline = guard(function (command: string) {
    // throughline('ids', …) is the platform hooks' to answer: kept for them.
    // eslint-disable-next-line prefer-rest-params
    if (command == 'ids') (api.q ||= []).push(arguments);
    else {
      setCookie(command == 'consent' ? CONSENT_COOKIE : OPT_OUT_COOKIE, 1, command == 'optin' ? -1 : 400);
      go();
    }
  }) as PageApi);
  go();
  for (const args of queued) api(...(args as [string]));
})();
