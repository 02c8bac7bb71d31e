// Tilda forms (a standard block and a Zero Block form) and Bitrix24 CRM forms
// in real Chromium, with the real tracker and collector, on our stand-ins of
// the platforms' scripts and servers (tests/fixtures/forms/tilda, bitrix24).
// What is asserted is what the platform keeps (its stand-in server's records,
// or the form model's state) and the lead hits the tracker sent: one per
// accepted submission, none for an attempt the platform refused.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bitrix24StandIn, PAGE as B24_PAGE } from '../fixtures/forms/bitrix24/server.js';
import { RECEIVER, STANDARD_PAGE, tildaStandIn, ZERO_PAGE } from '../fixtures/forms/tilda/server.js';
import { quiet, startPlatformSite, until, type PlatformSite, type Visitor } from '../helpers/platform-site.js';

const LANDING = '?utm_source=google&utm_medium=cpc&utm_campaign=x';

const tilda = tildaStandIn({ zeroFormsDelayMs: 1500 });
const b24 = bitrix24StandIn();
let pf: PlatformSite;
let v: Visitor | undefined;

beforeAll(async () => {
  pf = await startPlatformSite((apps) => {
    tilda.register(apps);
    b24.register(apps);
  });
  pf.page('site', '/tilda/standard', STANDARD_PAGE);
  pf.page('site', '/tilda/zero', ZERO_PAGE);
  pf.page('site', '/b24', B24_PAGE);
});
afterEach(async () => {
  await v?.context.close();
  v = undefined;
});
afterAll(() => pf?.stop());

/** A new visitor lands on a page of the site from an ad; `before` runs first (routes). */
async function land(path: string, before?: (page: Page) => Promise<void>): Promise<{ page: Page; visitor: Visitor }> {
  v = await pf.visitor();
  await before?.(v.page);
  await v.page.goto(pf.site + path + LANDING, { waitUntil: 'domcontentloaded' });
  return { page: v.page, visitor: v };
}

/** After a moment in which a late hit would have come: the lead hits the visitor sent, and no page error. */
async function leadsSettled(visitor: Visitor, count: number): Promise<void> {
  await quiet();
  expect(visitor.leads()).toHaveLength(count);
  expect(visitor.errors).toEqual([]);
}

/** Does `act`, waits until the stand-in kept one more record and returns it. */
async function keptAfter<T>(kept: T[], act: () => Promise<void>): Promise<T> {
  const before = kept.length;
  await act();
  await until(() => kept.length == before + 1);
  return kept[before]!;
}

/** Milliseconds since navigation at which a resource of the page was requested and had arrived. */
async function timing(page: Page, url: string): Promise<{ start: number; end: number }> {
  let entry = { start: 0, end: 0 };
  await until(async () => {
    const found = await page.evaluate((u) => {
      const e = performance.getEntriesByType('resource').find((r) => r.name.startsWith(u)) as PerformanceResourceTiming | undefined;
      return e && { start: e.startTime, end: e.responseEnd };
    }, url);
    if (found) entry = found;
    return !!found;
  });
  return entry;
}

describe('Tilda', () => {
  const STD = '#form512345678';
  const ZERO = '#form611111111';
  const ANNA = { Name: 'Анна Петрова', Phone: '+7 916 123-45-67', Email: 'anna@example.com' };

  /**
   * Waits until the tracker has filled the form (its tl_vid field, the owner's
   * or the one it added) and Tilda's script (async, from another origin) has
   * bound the form's record.
   */
  async function ready(page: Page, form: string, vid: string): Promise<void> {
    await until(async () => (await page.locator(`${form} input[name="tl_vid"]`).first().inputValue().catch(() => '')) == vid);
    const rec = await page.locator(form).evaluate((f) => f.closest('.r')!.id);
    await page.waitForFunction((r) => (window as unknown as { initForms?: Record<string, boolean> }).initForms?.[r], rec);
  }

  async function fill(page: Page, form: string, fields: Record<string, string>): Promise<void> {
    for (const [name, value] of Object.entries(fields)) await page.fill(`${form} input[name="${name}"]`, value);
  }

  /** The standard form's page, ready to be filled. */
  async function standard() {
    const { page, visitor } = await land('/tilda/standard');
    const vid = await visitor.vid();
    await ready(page, STD, vid);
    return { page, visitor, vid };
  }

  it('a standard form: Tilda keeps the visitor id, GA id and utm_source from the owner\'s hidden fields; one lead, sent before Tilda clears the entries', async () => {
    const { page, visitor, vid } = await standard();
    await fill(page, STD, ANNA);
    const kept = await keptAfter(tilda.kept, () => page.click(`${STD} .t-submit`));
    expect(kept).toMatchObject({
      formId: 'form512345678',
      formName: 'Заявка',
      fields: { tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google', Name: ANNA.Name, Email: ANNA.Email },
    });
    await leadsSettled(visitor, 1);
    // Read before successEnd emptied the visible inputs: the e-mail the visitor typed.
    expect(visitor.leads()[0]!.p).toMatchObject({ id: 'form512345678', email: ANNA.Email });
    expect(await page.locator(`${STD}.js-send-form-success`).count()).toBe(1);
  });

  it('a click that fails Tilda\'s validation sends nothing and reports no lead; the corrected form, one', async () => {
    const { page, visitor } = await standard();
    const posts = tilda.posts.length;
    await fill(page, STD, { Name: ANNA.Name, Email: 'anna@' });
    await page.click(`${STD} .t-submit`);
    await until(async () => (await page.locator(`${STD} .js-error-control-box`).count()) == 2);
    await leadsSettled(visitor, 0);
    expect(tilda.posts.length).toBe(posts);

    await fill(page, STD, { Phone: ANNA.Phone, Email: ANNA.Email });
    await keptAfter(tilda.kept, () => page.click(`${STD} .t-submit`));
    await leadsSettled(visitor, 1);
  });

  it('Enter in a field sends the form once (Tilda turns it into its click): one lead', async () => {
    const { page, visitor, vid } = await standard();
    await fill(page, STD, ANNA);
    const kept = await keptAfter(tilda.kept, () => page.press(`${STD} input[name="Email"]`, 'Enter'));
    expect(kept.fields).toMatchObject({ tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google' });
    const count = tilda.kept.length;
    await leadsSettled(visitor, 1);
    expect(tilda.kept.length).toBe(count);
  });

  it('an answer with an error (a receiver Tilda does not know) is no lead', async () => {
    const { page, visitor } = await standard();
    await page.locator(`${STD} input[value="${RECEIVER}"]`).evaluate((receiver: HTMLInputElement) => (receiver.value = 'deleted-receiver'));
    const kept = tilda.kept.length;
    await fill(page, STD, ANNA);
    await keptAfter(tilda.posts, () => page.click(`${STD} .t-submit`));
    await until(async () => (await page.locator(`${STD}.js-send-form-error`).count()) == 1);
    await leadsSettled(visitor, 0);
    expect(tilda.kept.length).toBe(kept);
  });

  it('a Zero Block form rendered after the tracker started is filled: Tilda keeps the ids and utm_source; one lead', async () => {
    const { page, visitor } = await land('/tilda/zero');
    const vid = await visitor.vid();
    await until(() => visitor.hits.some((h) => h.k == 'visit'));
    // The tracker is running and the form is not there yet.
    expect(await page.locator('.tn-atom form').count()).toBe(0);
    await page.waitForSelector(ZERO, { timeout: 10_000 });
    await ready(page, ZERO, vid);
    await fill(page, ZERO, { name: 'Олег', phone: '+7 903 765-43-21' });
    const kept = await keptAfter(tilda.kept, () => page.click(`${ZERO} .t-submit`));
    expect(kept).toMatchObject({
      formId: 'form611111111',
      formName: 'Zero: заявка',
      fields: { tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google', name: 'Олег' },
    });
    await leadsSettled(visitor, 1);
  });
});

describe('Bitrix24 CRM forms', () => {
  const FORM = '.b24-form form';
  const IVAN = { name: 'Иван', phone: '+7 921 555-01-02', email: 'ivan@example.com' };
  const model = (page: Page, property: string) =>
    page.evaluate((p) => (window as unknown as { b24form: { App: { list(): { getProperty(k: string): string }[] } } }).b24form.App.list()[0]?.getProperty(p), property);

  async function fill(page: Page, fields: Partial<typeof IVAN>): Promise<void> {
    for (const [name, value] of Object.entries(fields)) await page.fill(`${FORM} input[name="${name}"]`, value);
  }

  /** Submits and waits until the portal kept the result; returns what it kept. */
  const send = (page: Page) => keptAfter(b24.kept, () => page.click(`${FORM} .b24-form-btn`));

  /**
   * A visitor lands on the page and the form is shown. `loaderDelayMs`: how late
   * the form's loader arrives; `trackerLast`: the tracker's file is held until
   * the form is on the page (a slow collector), so its init event is gone.
   */
  async function open({ loaderDelayMs = 0, trackerLast = false } = {}) {
    b24.loaderDelayMs = loaderDelayMs;
    const { page, visitor } = await land('/b24', async (p) => {
      if (trackerLast) {
        await p.route(`${pf.collector.url}/t.js`, async (route) => {
          await p.waitForSelector(FORM, { timeout: 10_000 });
          await route.continue();
        });
      }
    });
    await page.waitForSelector(FORM, { timeout: 10_000 });
    return { page, visitor, vid: await visitor.vid() };
  }

  it('tracker first, form later: the core loads the hooks once the form is shown (.b24-form), which find it in b24form.App.list(); the CRM gets the ids and utm_source as the form\'s properties; one lead', async () => {
    const { page, visitor, vid } = await open({ loaderDelayMs: 1500 });
    const tracker = await timing(page, `${pf.collector.url}/t.js`);
    const app = await timing(page, `${pf.other}/bitrix/js/crm/form/app.js`);
    const hooks = await timing(page, `${pf.collector.url}/h.js`);
    expect(tracker.end).toBeLessThan(app.start);
    expect(app.end).toBeLessThan(hooks.start);
    // The model has them before anything is sent: the hooks' scan sets them
    // within 300 ms of the form's making (and every submit sets them again).
    await until(async () => (await model(page, 'tl_vid')) == vid);
    await fill(page, IVAN);
    const kept = await send(page);
    expect(kept.properties).toMatchObject({ tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google' });
    expect(kept.values).toEqual({ LEAD_NAME: IVAN.name, LEAD_PHONE: IVAN.phone, LEAD_EMAIL: IVAN.email });
    await leadsSettled(visitor, 1);
    expect(visitor.leads()[0]!.p).toMatchObject({ phone: IVAN.phone });
  });

  it('form first, tracker later (its init event is gone): the hooks find the form in b24form.App.list(); the CRM gets the ids; one lead', async () => {
    const { page, visitor, vid } = await open({ trackerLast: true });
    const app = await timing(page, `${pf.other}/bitrix/js/crm/form/app.js`);
    const tracker = await timing(page, `${pf.collector.url}/t.js`);
    expect(app.end).toBeLessThan(tracker.end);
    await until(async () => (await model(page, 'tl_vid')) == vid);
    expect(await model(page, 'utm_source')).toBe('google');
    await fill(page, IVAN);
    const kept = await send(page);
    expect(kept.properties).toMatchObject({ tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google' });
    await leadsSettled(visitor, 1);
  });

  it('a campaign that changes after the form\'s init (a single-page app\'s navigation) reaches the CRM: the properties are set again at submit', async () => {
    const { page, visitor, vid } = await open();
    await until(async () => (await model(page, 'utm_source')) == 'google');
    await page.evaluate(() => history.pushState({}, '', '?utm_source=newsletter&utm_medium=email&utm_campaign=spring'));
    await until(async () => (await visitor.context.cookies(pf.site)).some((c) => c.name == 'utm_source' && c.value == 'newsletter'));
    await fill(page, IVAN);
    const kept = await send(page);
    expect(kept.properties).toMatchObject({ tl_vid: vid, tl_ga: visitor.ga, utm_source: 'newsletter', utm_campaign: 'spring' });
    await leadsSettled(visitor, 1);
  });

  it('a submit Bitrix refuses (a required field empty) reports no lead, though the form fired a submit event; the accepted one, one', async () => {
    const { page, visitor, vid } = await open();
    await until(async () => (await model(page, 'tl_vid')) == vid);
    const posts = b24.posts.length;
    await fill(page, { name: IVAN.name });
    await page.click(`${FORM} .b24-form-btn`);
    await until(async () => (await page.locator('.b24-form-control-alert-message:visible').count()) == 1);
    await leadsSettled(visitor, 0);
    expect(b24.posts.length).toBe(posts);

    await fill(page, { phone: IVAN.phone });
    const kept = await send(page);
    expect(kept.properties).toMatchObject({ tl_vid: vid, tl_ga: visitor.ga, utm_source: 'google' });
    await leadsSettled(visitor, 1);
  });
});
