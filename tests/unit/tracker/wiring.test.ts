// The built tracker (dist/tracker/t.js, as served) wired to a page in jsdom:
// what the Chromium tests cannot set up — a cookie jar that throws, clobbered
// DOM — and the rule that the tracker never throws into the host page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM, requestInterceptor, VirtualConsole, type DOMWindow } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../collector/src/paths.js';

const COLLECTOR = 'https://collector.example/';
/** The tracker's files as the collector serves them: the core, the platform hooks, the contact features. */
const FILES = new Map(['t', 'h', 'c'].map((name) => [`${COLLECTOR}${name}.js`, readFileSync(join(ROOT, 'dist', 'tracker', `${name}.js`))]));

/** The page loads the tracker from the collector; anything else it asks for is refused. */
const resources = {
  interceptors: [
    requestInterceptor((request) =>
      FILES.has(request.url)
        ? new Response(FILES.get(request.url), { headers: { 'Content-Type': 'text/javascript' } })
        : new Response(null, { status: 404 }),
    ),
  ],
};

type Sent = { k: string; v: string; p?: Record<string, string> };

async function open(body: string, prepare: (w: DOMWindow) => void = () => {}, url = 'https://shop.example/?utm_source=yandex&yclid=42') {
  const sent: Sent[] = [];
  const errors: unknown[] = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e) => {
    // jsdom does not navigate: its "not implemented" notice for form.submit() is expected
    if (!/^Not implemented: HTMLFormElement/.test(e.message)) errors.push(e);
  });
  const dom = new JSDOM(`<!doctype html><head><script async src="${COLLECTOR}t.js" data-site="shop"></script></head><body>${body}</body>`, {
    url,
    referrer: 'https://yandex.ru/',
    runScripts: 'dangerously',
    resources,
    virtualConsole,
    beforeParse(w) {
      Object.assign(w, { fetch: async () => ({ text: async () => 'AB23CD' }) });
      Object.assign(w.navigator, { sendBeacon: (_url: string, data: string) => sent.push(JSON.parse(data) as Sent) > 0 });
      w.addEventListener('error', (e) => errors.push(e.error));
      prepare(w);
    },
  });
  await new Promise((r) => dom.window.addEventListener('load', r));
  // (300 ms: the contact features, c.js, load after the first scan where a page shows contact links)
  await new Promise((r) => setTimeout(r, 300));
  return { w: dom.window, sent, errors, close: () => dom.window.close() };
}

describe('the built tracker in a page', () => {
  it('sends the visit, fills forms and tags mailto links', async () => {
    const page = await open('<form id="f"><input name="phone"></form><a id="m" href="MAILTO:a@shop.example,b@shop.example?cc=c@shop.example">x</a>');
    expect(page.sent.filter((h) => h.k === 'visit')).toHaveLength(1);
    expect(page.sent[0]!.v).toBe('AB23CD');
    const form = page.w.document.getElementById('f') as HTMLFormElement;
    expect(Object.fromEntries(new page.w.FormData(form))).toMatchObject({ tl_vid: 'AB23CD', utm_source: 'yandex', yclid: '42', tl_referrer: 'https://yandex.ru/' });
    expect(page.w.document.getElementById('m')!.getAttribute('href')).toBe('mailto:a@shop.example,b@shop.example?cc=c@shop.example&subject=%5BAB23CD%5D');
    expect(page.errors).toEqual([]);
    page.close();
  });

  it('reports form.submit() as a lead, filled first', async () => {
    const page = await open('<form id="f" action="/send"><input name="email" value="ivan@example.ru"></form>');
    const form = page.w.document.getElementById('f') as HTMLFormElement;
    form.removeChild(form.querySelector('[name=tl_vid]')!);
    form.submit();
    expect(page.sent.filter((h) => h.k === 'lead')).toEqual([expect.objectContaining({ p: { id: 'f', name: '', action: '/send', email: 'ivan@example.ru' } })]);
    expect((form.elements.namedItem('tl_vid') as HTMLInputElement).value).toBe('AB23CD');
    expect(page.errors).toEqual([]);
    page.close();
  });

  it('counts a page restored from the back/forward cache by the 10-minute rule', async () => {
    const page = await open('', undefined, 'https://shop.example/prices');
    const visits = () => page.sent.filter((h) => h.k === 'visit').length;
    const restore = () => page.w.dispatchEvent(new page.w.PageTransitionEvent('pageshow', { persisted: true }));
    expect(visits()).toBe(1);
    restore();
    expect(visits()).toBe(1);
    page.w.document.cookie = `tl_vt=${Date.now() - 11 * 60 * 1000}; path=/`;
    restore();
    expect(visits()).toBe(2);
    page.w.dispatchEvent(new page.w.PageTransitionEvent('pageshow', { persisted: false }));
    page.w.document.cookie = `tl_vt=${Date.now() - 11 * 60 * 1000}; path=/`;
    page.w.dispatchEvent(new page.w.PageTransitionEvent('pageshow', { persisted: false }));
    expect(visits()).toBe(2);
    expect(page.errors).toEqual([]);
    page.close();
  });

  it('a campaign landing restored from the back/forward cache is the same visit: its campaign is the current one (the fresh-landing rule, which the collector applies alike)', async () => {
    const page = await open('');
    page.w.dispatchEvent(new page.w.PageTransitionEvent('pageshow', { persisted: true }));
    expect(page.sent.filter((h) => h.k === 'visit')).toHaveLength(1);
    page.close();
  });

  it('keeps working, without memory, when the cookie jar throws', async () => {
    const page = await open('<form id="f"></form>', (w) => {
      Object.defineProperty(w.Document.prototype, 'cookie', {
        get: () => {
          throw new w.DOMException('blocked', 'SecurityError');
        },
        set: () => {
          throw new w.DOMException('blocked', 'SecurityError');
        },
      });
    });
    expect(page.sent.filter((h) => h.k === 'visit')).toHaveLength(1);
    expect((page.w.document.querySelector('[name=tl_vid]') as HTMLInputElement).value).toBe('AB23CD');
    expect(page.errors).toEqual([]);
    page.close();
  });

  it('never throws on odd DOM: clobbered forms, links without a string href, anchors-less clicks', async () => {
    const page = await open(
      '<form id="bad"><input name="elements"><input name="getAttribute"></form><form id="good"></form>' +
        '<svg><a id="svg" href="mailto:x@shop.example"><text>x</text></a></svg><p id="p">text</p><a id="tel" href="tel:+7%20495%20000">call</a>',
    );
    (page.w.document.getElementById('bad') as HTMLFormElement).dispatchEvent(new page.w.Event('submit', { bubbles: true }));
    page.w.document.getElementById('p')!.click();
    page.w.document.getElementById('tel')!.click();
    expect((page.w.document.querySelector('#good [name=tl_vid]') as HTMLInputElement).value).toBe('AB23CD');
    expect(page.sent.filter((h) => h.k === 'tel')).toEqual([expect.objectContaining({ p: { tel: '+7 495 000' } })]);
    expect(page.errors).toEqual([]);
    page.close();
  });
});
