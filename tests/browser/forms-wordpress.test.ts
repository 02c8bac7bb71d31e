// The WordPress form builders in real Chromium: Contact Form 7, Elementor Pro
// and Gravity Forms, each our own fixture of the markup the plugin renders, a
// stand-in of its submit script and of the site's server side that keeps what
// the plugin keeps (tests/fixtures/forms/<platform>/, sources in each header).
// Every test asserts what the platform kept (its stand-in's record or entry):
// the visitor id the tracker was issued, the GA client id and the landing's
// UTM tags, with one lead hit per submission and no page error.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cf7StandIn, PAGE_PATH as CF7_PAGE } from '../fixtures/forms/cf7/server.js';
import { elementorStandIn, PAGE_PATH as ELEMENTOR_PAGE } from '../fixtures/forms/elementor/server.js';
import { CUSTOM_BUTTON_PATH, fieldOf, gravityStandIn, PAGE_PATH as GRAVITY_PAGE } from '../fixtures/forms/gravity/server.js';
import { quiet, startPlatformSite, until, type PlatformSite, type Visitor } from '../helpers/platform-site.js';

const cf7 = cf7StandIn();
const elementor = elementorStandIn();
const gravity = gravityStandIn();

/** What reached the platform of our values, read from its record by the key the owner's field has there. */
const carried = (record: Record<string, string> | undefined, key: (name: string) => string = (n) => n) => ({
  vid: record?.[key('tl_vid')],
  ga: record?.[key('tl_ga')],
  source: record?.[key('utm_source')],
  medium: record?.[key('utm_medium')],
});

/** Our values as the landing from a Google ad gives them, for the visitor issued `vid`. */
const ours = (v: Visitor, vid: string) => ({ vid, ga: v.ga, source: 'google', medium: 'cpc' });

/** Waits until a stand-in's list holds `n` items and gives the n-th. */
async function nth<T>(list: T[], n: number): Promise<T> {
  await until(() => list.length >= n);
  return list[n - 1]!;
}

/** After the last submission: exactly `leads` lead hits (none comes late), and no page error. */
async function done(v: Visitor, leads: number): Promise<void> {
  await quiet();
  expect(v.leads()).toHaveLength(leads);
  expect(v.errors).toEqual([]);
  await v.context.close();
}

describe('WordPress form builders', () => {
  let s: PlatformSite;
  const landing = (path: string) => `${s.site}${path}?utm_source=google&utm_medium=cpc&utm_campaign=x`;

  /** A visitor who lands on the page from a Google ad; the visitor id the tracker was issued. */
  async function land(path: string): Promise<{ v: Visitor; page: Page; vid: string }> {
    const v = await s.visitor();
    await v.page.goto(landing(path));
    return { v, page: v.page, vid: await v.vid() };
  }

  beforeAll(async () => {
    s = await startPlatformSite(({ site, fill }) => {
      cf7.register(site, fill);
      elementor.register(site, fill);
      gravity.register(site, fill);
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  describe('Contact Form 7', () => {
    /** The visitor sends a message; what CF7 kept of it, once CF7 has answered and reset the form. */
    async function send(page: Page, name: string, email: string): Promise<Record<string, string>> {
      const n = cf7.kept.length + 1;
      await page.fill('input[name="your-name"]', name);
      await page.fill('input[name="your-email"]', email);
      await page.click('input.wpcf7-submit');
      const record = await nth(cf7.kept, n);
      await until(async () => (await page.getAttribute('form.wpcf7-form', 'data-status')) == 'sent');
      return record;
    }

    it("keeps the ids and the campaign in the owner's [hidden] form-tags", async () => {
      const { v, page, vid } = await land(CF7_PAGE);
      const record = await send(page, 'Ada Lovelace', 'ada@example.com');
      expect(record['your-email']).toBe('ada@example.com');
      expect(carried(record)).toEqual(ours(v, vid));
      expect(record.utm_campaign).toBe('x');
      await done(v, 1);
    });

    it('carries them again in a second message sent after the success reset', async () => {
      const { v, page, vid } = await land(CF7_PAGE);
      await send(page, 'Ada Lovelace', 'ada@example.com');
      // The first lead was reported by now (its submission is kept): the pause is
      // counted from here, not from before the click, which a busy machine delays.
      const sent = Date.now();
      // CF7 reset the form after mail_sent: the visitor types the next message,
      // seconds later (not the moments a double click takes).
      expect(await page.inputValue('input[name="your-email"]')).toBe('');
      await page.waitForTimeout(Math.max(0, sent + 2500 - Date.now()));
      const second = await send(page, 'Ada Lovelace', 'ada@northwind.example');
      expect(second['your-email']).toBe('ada@northwind.example');
      expect(carried(second)).toEqual(ours(v, vid));
      await done(v, 2);
    });
  });

  describe('Elementor Pro forms', () => {
    it('keeps the ids in the Hidden fields whose IDs are named after them (form_fields[tl_vid])', async () => {
      const { v, page, vid } = await land(ELEMENTOR_PAGE);
      const n = elementor.kept.length + 1;
      await page.fill('#form-field-name', 'Ada Lovelace');
      await page.fill('#form-field-email', 'ada@example.com');
      await page.click('.elementor-field-type-submit button');
      const record = await nth(elementor.kept, n);
      await page.waitForSelector('.elementor-message-success');
      expect(record.email).toBe('ada@example.com');
      expect(carried(record)).toEqual(ours(v, vid));
      expect(record.utm_campaign).toBe('x');
      // The visitor id went in the owner's field, not in a second input of its own.
      expect(elementor.posts.at(-1)!.filter(([name]) => name.includes('tl_vid')).map(([name]) => name)).toEqual(['form_fields[tl_vid]']);
      await done(v, 1);
    });
  });

  describe('Gravity Forms (Ajax, hidden iframe)', () => {
    /** The visitor fills what is given and clicks Submit; the post Gravity's server received. */
    async function submit(page: Page, fields: { name?: string; email?: string }): Promise<Map<string, string>> {
      const n = gravity.posts.length + 1;
      if (fields.name) await page.fill('#input_1_1', fields.name);
      if (fields.email) await page.fill('#input_1_2', fields.email);
      await page.click('#gform_submit_button_1');
      return new Map(await nth(gravity.posts, n));
    }
    /** The one entry saved since there were `entries`, once the page shows Gravity's confirmation. */
    async function confirmed(page: Page, entries: number): Promise<Record<string, string>> {
      await page.waitForSelector('#gform_confirmation_message_1');
      expect(gravity.kept).toHaveLength(entries + 1);
      return gravity.kept[entries]!;
    }
    /** The form Gravity rendered again after a failed validation (the wrapper's new HTML). */
    const rerendered = (page: Page) => page.waitForSelector('#gform_wrapper_1.gform_validation_error #input_1_2[aria-invalid="true"]');
    const posted = (post: Map<string, string>) => carried(Object.fromEntries(post), (name) => `input_${fieldOf(name)}`);

    it('keeps the ids in the hidden fields the owner marked with CSS classes', async () => {
      const { v, page, vid } = await land(GRAVITY_PAGE);
      const entries = gravity.kept.length;
      await submit(page, { name: 'Ada Lovelace', email: 'ada@example.com' });
      const entry = await confirmed(page, entries);
      expect(entry['2']).toBe('ada@example.com');
      expect(carried(entry, fieldOf)).toEqual(ours(v, vid));
      await done(v, 1);
    });

    it('fills the form Gravity renders again after a validation error; each submission is one lead', async () => {
      const { v, page, vid } = await land(GRAVITY_PAGE);
      const entries = gravity.kept.length;
      const failed = await submit(page, { name: 'Ada Lovelace' }); // no e-mail: Gravity answers with the form again
      await rerendered(page);
      expect(gravity.kept).toHaveLength(entries);
      expect(posted(failed)).toEqual(ours(v, vid));
      await submit(page, { email: 'ada@example.com' });
      const entry = await confirmed(page, entries);
      expect(entry['1']).toBe('Ada Lovelace');
      expect(carried(entry, fieldOf)).toEqual(ours(v, vid));
      await done(v, 2);
    });

    it('fills a re-rendered form whose first post went out before the tracker had loaded', async () => {
      // The tracker's script is slow to arrive and the visitor quick: the first
      // post (no e-mail) leaves without our values, and Gravity renders the form
      // again with what was posted, empty hidden fields.
      const v = await s.visitor();
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      await v.context.route(`${s.collector.url}/t.js`, async (route) => {
        await held;
        await route.continue();
      });
      const page = v.page;
      await page.goto(landing(GRAVITY_PAGE), { waitUntil: 'domcontentloaded' });
      const entries = gravity.kept.length;
      const early = await submit(page, { name: 'Ada Lovelace' });
      await rerendered(page);
      expect(posted(early)).toEqual({ vid: '', ga: '', source: '', medium: '' });
      release();
      const vid = await v.vid();
      await submit(page, { email: 'ada@example.com' });
      const entry = await confirmed(page, entries);
      expect(carried(entry, fieldOf)).toEqual(ours(v, vid));
      await done(v, 1); // the second submission's: the tracker was not there for the first
    });

    it('reports one lead when a theme button lets the browser submit and Gravity submits again itself', async () => {
      const { v, page, vid } = await land(CUSTOM_BUTTON_PATH);
      const [posts, entries] = [gravity.posts.length, gravity.kept.length];
      await submit(page, { name: 'Ada Lovelace', email: 'ada@example.com' });
      const entry = await confirmed(page, entries);
      expect(carried(entry, fieldOf)).toEqual(ours(v, vid));
      await quiet();
      expect(gravity.posts).toHaveLength(posts + 1); // one post: Gravity stopped the browser's and posted itself
      await done(v, 1);
    });
  });
});
