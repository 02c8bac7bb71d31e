// Forms whose platform submits its own state, not the form's DOM, in real
// Chromium with the real tracker and collector: HubSpot's legacy embed (a React
// form written into a same-origin iframe, late), React apps written like Formik
// (hidden fields in the app's state), a React app that takes the ids through the
// page API (queued by the stub before t.js loads), Vue apps (v-model on hidden
// inputs), and a site's own page in a frame sent by form.submit(). Each test
// asserts what the platform sent and kept (its stand-in server's record), one
// lead hit per submission, and no page error in any frame.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, hubspotStandIn, packageFile, PAGE, REACT, REACT_DOM, WIDGET } from '../fixtures/forms/hubspot/server.js';
import { quiet, startPlatformSite, until, type PlatformSite, type Visitor } from '../helpers/platform-site.js';

const fixture = (file: string) => fileURLToPath(new URL(`../fixtures/forms/${file}`, import.meta.url));

/** The visitor lands from a newsletter: the last touch's utm_source is what the CRM must get. */
const SOURCE = 'newsletter';
const LANDING = `?utm_source=${SOURCE}&utm_medium=email`;

describe('forms of apps and embeds that submit their own state', () => {
  const hubspot = hubspotStandIn();
  /** What the sites' own back ends received: JSON posted by the apps, call-back forms posted by frames. */
  const posted: Record<string, string>[] = [];
  let s: PlatformSite;

  beforeAll(async () => {
    s = await startPlatformSite(({ site, other, fill }) => {
      hubspot.register(other);
      const js = (path: string, file: string) => site.get(path, (_req, res) => res.sendFile(file));
      js('/js/react.js', REACT);
      js('/js/react-dom.js', REACT_DOM);
      js('/js/formik-app.js', fixture('react/formik-app.js'));
      js('/js/ids-app.js', fixture('react/ids-app.js'));
      js('/js/vue.js', packageFile('vue', 'dist/vue.global.prod.js'));
      js('/js/vue-app.js', fixture('vue/app.js'));
      site.post('/api/leads', express.json(), (req, res) => {
        posted.push(req.body as Record<string, string>);
        res.json({ ok: true });
      });
      // The framed call-back form, with its own tracker in one of the two frames.
      site.get('/frames/callback.html', (req, res) => {
        const html = readFileSync(fixture('hubspot/callback-frame.html'), 'utf8');
        res.type('html').send(fill(html.replaceAll('{{FRAME_TRACKER}}', req.query.frame === 'tracked' ? '{{TRACKER}}' : '')));
      });
      site.post('/callback', express.urlencoded({ extended: false }), (req, res) => {
        posted.push(req.body as Record<string, string>);
        res.type('html').send('<!doctype html><p>Thanks, we will call you back.</p>');
      });
    });
    s.page('site', '/hubspot.html', PAGE);
    s.page('other', '/widget.html', WIDGET);
    s.page('site', '/callback.html', fixture('hubspot/callback-page.html'));
    s.page('site', '/react-formik.html', fixture('react/formik.html'));
    s.page('site', '/react-ids.html', fixture('react/ids.html'));
    s.page('site', '/vue.html', fixture('vue/page.html'));
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function land(path: string): Promise<Visitor> {
    posted.length = 0;
    const v = await s.visitor();
    await v.page.goto(`${s.site}${path}${LANDING}`);
    return v;
  }

  /** What the platform kept carries the visitor id, the GA client id and the landing's utm_source. */
  async function expectIds(kept: Record<string, string> | undefined, v: Visitor): Promise<void> {
    expect(kept).toMatchObject({ tl_vid: await v.vid(), tl_ga: v.ga, utm_source: SOURCE });
  }

  /** After the tracker has had time to send anything more: `n` leads in all, and no page error in any frame. */
  async function leadsAndNoErrors(v: Visitor, n: number): Promise<void> {
    await quiet();
    expect(v.leads()).toHaveLength(n);
    expect(v.errors).toEqual([]);
  }

  /**
   * Two submissions of an app's contact form (#contact: name, email, hidden
   * tl_vid, tl_ga, utm_source in the app's state); the second follows the app's
   * reset after success, a re-render that wrote the empty initial values back
   * into the hidden inputs.
   */
  async function twoSubmissions(path: string, who: string): Promise<void> {
    const v = await land(path);
    for (const n of [1, 2]) {
      await quiet(); // the visitor reads the form; the tracker's scans run meanwhile
      await v.page.fill('#contact input[name=name]', `${who} ${n}`);
      await v.page.fill('#contact input[name=email]', `${who}${n}@example.com`);
      await v.page.click('#contact button[type=submit]');
      await until(() => posted.length === n);
      expect(posted[n - 1]).toMatchObject({ name: `${who} ${n}`, email: `${who}${n}@example.com` });
      await expectIds(posted[n - 1], v);
      await v.page.locator('.sent', { hasText: `Sent ${n} ` }).waitFor();
      await leadsAndNoErrors(v, n);
    }
    await v.context.close();
  }

  it('HubSpot: the form React renders late into a same-origin iframe submits the ids as its hidden properties, and nothing else', async () => {
    const v = await land('/hubspot.html');
    const frame = v.page.frameLocator('iframe.hs-form-iframe');
    await frame.locator('form.hs-form').waitFor();
    await quiet(); // the visitor reads the form; the tracker's scans run meanwhile
    await frame.locator('input[name=email]').fill('ann@example.com');
    await frame.locator('input[name=firstname]').fill('Ann');
    await frame.locator('input[type=submit]').click();
    await until(() => hubspot.kept.length + hubspot.refused.length > 0);

    // HubSpot refuses a submission naming a field the form lacks: the embed
    // sent its own state (the form's properties), not the fields the tracker
    // appended to the DOM (tl_ym, tl_landing, ...).
    expect(hubspot.refused).toEqual([]);
    expect(Object.keys(hubspot.kept[0]!).sort()).toEqual(FIELDS.map((f) => f.name).sort());
    expect(hubspot.kept[0]).toMatchObject({ email: 'ann@example.com', firstname: 'Ann' });
    await expectIds(hubspot.kept[0], v);
    await frame.locator('.submitted-message').waitFor();
    await leadsAndNoErrors(v, 1);
    expect(v.leads()[0]!.p?.email).toBe('ann@example.com'); // the lead came from the framed form
    await v.context.close();
  });

  it('a page of the site in a frame, sent by form.submit(): filled and reported once, and left to its own tracker when it runs one', async () => {
    const v = await land('/callback.html');
    await v.vid();
    await v.page.click('#open');
    await quiet();
    for (const id of ['plain', 'tracked']) {
      const frame = v.page.frameLocator(`#${id}`);
      await frame.locator('input[name=phone]').fill('+1 202 555 0100');
      await frame.locator('#send').click();
      await until(() => posted.some((p) => p.frame === id));
    }
    for (const id of ['plain', 'tracked']) await expectIds(posted.find((p) => p.frame === id), v);
    await leadsAndNoErrors(v, 2);
    await v.context.close();
  });

  it('React, written like Formik: the state posted carries the ids from its hidden fields, also after the app reset the form', () =>
    twoSubmissions('/react-formik.html', 'bob'));

  it('React with the page API: the ids asked through the stub before t.js loaded reach the app state it posts', async () => {
    const v = await land('/react-ids.html');
    expect(await v.page.evaluate(() => (window as unknown as { queuedCalls: number }).queuedCalls)).toBe(1);
    await v.vid();
    await v.page.fill('#demo input[name=name]', 'Cy');
    await v.page.fill('#demo input[name=email]', 'cy@example.com');
    await v.page.click('#demo button[type=submit]');
    await until(() => posted.length === 1);
    expect(posted[0]).toMatchObject({ name: 'Cy', email: 'cy@example.com', tl_ym: v.ym, utm_medium: 'email' });
    await expectIds(posted[0], v);
    // keyed by the hidden fields' default names, empty values left out
    expect(Object.entries(posted[0]!).filter(([, value]) => value === '')).toEqual([]);
    expect(posted[0]).not.toHaveProperty('gclid');
    await leadsAndNoErrors(v, 1);
    await v.context.close();
  });

  it('Vue: the reactive state posted carries the ids through v-model on hidden inputs, also after the app reset the form', () =>
    twoSubmissions('/vue.html', 'dee'));
});
