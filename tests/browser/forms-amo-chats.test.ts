// amoCRM/Kommo website forms (a cross-origin iframe fed by its loader) and the
// chat widgets that take ids through their own API (Jivo, Carrot quest), on our
// stand-ins of each (tests/fixtures/forms/amocrm/, tests/fixtures/forms/chats/:
// each file names its public sources), with the real tracker, collector and
// Chromium. Every test asserts what the platform keeps (its stand-in server's
// record), that page errors are none, and the lead hits: one per form
// submission, none for a chat.
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amoStandIn, CONTACTS, CONTACTS_CLASSIC, LANDING, type AmoLead } from '../fixtures/forms/amocrm/server.js';
import { carrotStandIn, jivoStandIn, PAGES, siteBackend, type JivoClient } from '../fixtures/forms/chats/server.js';
import { quiet, startPlatformSite, until, type PlatformSite, type Visitor } from '../helpers/platform-site.js';

const amo = amoStandIn();
const jivo = jivoStandIn();
const carrot = carrotStandIn();
const backend = siteBackend();
let platform: PlatformSite;
const visitors: Visitor[] = [];

/** Widgets arrive late (LATE_MS), then the platform hooks, then a scan: a few seconds. */
const LATE = 10_000;

beforeAll(async () => {
  platform = await startPlatformSite((apps) => {
    amo.register(apps.other);
    jivo.register(apps.other);
    carrot.register(apps.other);
    backend.register(apps);
  });
  platform.page('site', '/landing.html', LANDING);
  platform.page('site', '/contacts.html', CONTACTS);
  platform.page('site', '/contacts-classic.html', CONTACTS_CLASSIC);
  for (const file of Object.values(PAGES)) platform.page('site', `/${basename(file)}`, file);
});
afterAll(async () => {
  for (const v of visitors) await v.context.close();
  await platform?.stop();
});

async function visitor(): Promise<Visitor> {
  const v = await platform.visitor();
  visitors.push(v);
  return v;
}

/** A chat is not a lead: none may come (given the time a lead hit would take), and no page error. */
async function noLeadNoErrors(v: Visitor): Promise<void> {
  await quiet();
  expect(v.leads()).toEqual([]);
  expect(v.errors).toEqual([]);
}

/** The Jivo client whose user token is this visitor id (the token every webhook of its chats carries). */
const jivoClient = (vid: string): JivoClient | undefined => [...jivo.clients.values()].find((c) => c.user_token === vid);
/** The Jivo client of this visitor once it has both its user token and custom data. */
const jivoHanded = (vid: string) => !!jivoClient(vid)?.custom_data.length;
const customData = (c: JivoClient) => Object.fromEntries(c.custom_data.map((f) => [f.key, f.content]));
/** The Carrot quest user whose tl_vid property is this visitor id. */
const carrotUser = (vid: string) => [...carrot.users.values()].find((p) => p.tl_vid === vid);

describe('amoCRM website form (cross-origin iframe)', () => {
  it.each([
    ['current embed code', '#next', '/contacts.html'],
    ['older embed code', '#classic', '/contacts-classic.html'],
  ])('%s: the lead keeps the UTM tags of an earlier landing (our cookies), the visitor id, GA and Metrika ids; one lead hit', async (_name, link, path) => {
    const v = await visitor();
    // Page A: the ad's landing, with a campaign that needs percent-encoding.
    await v.page.goto(`${platform.site}/landing.html?utm_source=google&utm_medium=cpc&utm_campaign=${encodeURIComponent('весна 2024')}`);
    const vid = await v.vid();
    // Page B: no tags in its address; the amoCRM form is there.
    const metas = amo.metas.length;
    await v.page.click(link);
    await v.page.waitForURL(`**${path}`);
    const frame = (await (await v.page.waitForSelector('iframe.amoforms_iframe')).contentFrame())!;
    await frame.waitForSelector('#button_submit');
    // A visitor takes longer to fill the form than the hooks take to hand the
    // ids (setMeta reaches amoCRM's pixel session): wait for it as a person would.
    await until(() => amo.metas.slice(metas).some((m) => m.meta.lead?.custom_fields_values?.some((f) => f.values?.[0]?.value === vid) ?? false), LATE);
    expect(v.leads()).toEqual([]);

    const leads = amo.leads.length;
    await frame.fill('[name="fields[name_1]"]', 'Anna');
    await frame.fill('[name="fields[phone_1]"]', '+7 912 345-67-89');
    await frame.fill('[name="fields[email_1]"]', 'anna@example.com');
    await frame.click('#button_submit');
    await until(() => amo.leads.length === leads + 1);
    const lead = amo.leads.at(-1) as AmoLead;

    // The form's own path: its loader read the tags from our utm_* cookies
    // (page B's address has none) and the form page decoded them.
    expect(lead.posted).toMatchObject({ utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'весна 2024' });
    // What amoCRM keeps, by field code: its tracking fields, and the owner's.
    expect(lead.fields).toMatchObject({ UTM_SOURCE: 'google', UTM_MEDIUM: 'cpc', UTM_CAMPAIGN: 'весна 2024', TL_VID: vid, TL_GA: v.ga, TL_YM: v.ym });
    // The page has no analytics.js, so amoCRM's loader had no GA id of its own.
    expect(lead.fields.GCLIENTID).toBeUndefined();
    expect(lead.contact).toEqual({ name: 'Anna', phone: '+7 912 345-67-89', email: 'anna@example.com' });

    await frame.waitForSelector('.amoforms-sended-message');
    await quiet();
    expect(v.leads()).toHaveLength(1);
    expect(v.leads()[0]!.p).toMatchObject({ id: 'amoforms_iframe_1234567', name: 'amoforms_iframe_1234567' });
    expect(v.errors).toEqual([]);
  });

  it('the GA id amoCRM kept is the one every hit of the visitor carried with the visitor id (the collector ties the two)', async () => {
    const v = await visitor();
    await v.page.goto(`${platform.site}/landing.html?utm_source=newsletter`);
    const vid = await v.vid();
    const metas = amo.metas.length;
    await v.page.click('#next');
    const frame = (await (await v.page.waitForSelector('iframe.amoforms_iframe')).contentFrame())!;
    await frame.waitForSelector('#button_submit');
    await until(() => amo.metas.length > metas, LATE);
    const leads = amo.leads.length;
    await frame.fill('[name="fields[name_1]"]', 'Boris');
    await frame.fill('[name="fields[phone_1]"]', '+7 900 000-00-01');
    await frame.click('#button_submit');
    await until(() => amo.leads.length === leads + 1);
    const kept = amo.leads.at(-1)!.fields;
    await quiet();

    const hits = v.hits.filter((h) => h.v === vid);
    expect(hits.map((h) => h.k)).toEqual(expect.arrayContaining(['visit', 'lead']));
    expect(new Set(hits.map((h) => h.g))).toEqual(new Set([kept.TL_GA]));
    expect(kept.TL_VID).toBe(vid);
    expect(v.leads()).toHaveLength(1);
    expect(v.errors).toEqual([]);
  });
});

describe('chat widgets', () => {
  it.each([
    ['arriving after the tracker', 'jivo.html', { utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'spring' }],
    ['ready before the tracker loads', 'jivo-first.html', { utm_source: 'vk' }],
  ])('Jivo, %s: the user token is the visitor id, the custom data the ids and UTM tags; the page\'s own callback still runs; no lead', async (_when, page, tags) => {
    const v = await visitor();
    await v.page.goto(`${platform.site}/${page}?${new URLSearchParams(tags)}`);
    const vid = await v.vid();
    await until(() => jivoHanded(vid), LATE);
    const c = jivoClient(vid)!;
    expect(jivo.chatAccepted(c).user_token).toBe(vid);
    expect(customData(c)).toEqual({ tl_vid: vid, tl_ga: v.ga, tl_ym: v.ym, ...tags });
    expect(await v.page.evaluate(() => (window as unknown as { siteCallbacks?: number }).siteCallbacks)).toBe(1);
    await noLeadNoErrors(v);
  });

  it('Carrot quest: the user keeps tl_vid, tl_ga, tl_ym exactly (as strings, not numbers) and the UTM tags; no lead', async () => {
    const v = await visitor();
    await v.page.goto(`${platform.site}/carrot.html?utm_source=telegram&utm_content=post-12`);
    const vid = await v.vid();
    await until(() => !!carrotUser(vid), LATE);
    expect(carrotUser(vid)).toEqual({ tl_vid: vid, tl_ga: v.ga, tl_ym: v.ym, utm_source: 'telegram', utm_content: 'post-12' });
    await noLeadNoErrors(v);
  });

  it('both widgets, Carrot quest added seconds later by a timer: each gets the ids', async () => {
    const v = await visitor();
    await v.page.goto(`${platform.site}/both.html?utm_source=partner`);
    const vid = await v.vid();
    await until(() => jivoHanded(vid), LATE);
    await until(() => !!carrotUser(vid), LATE);
    expect(customData(jivoClient(vid)!)).toMatchObject({ tl_vid: vid, tl_ga: v.ga, utm_source: 'partner' });
    expect(carrotUser(vid)).toMatchObject({ tl_vid: vid, tl_ga: v.ga, tl_ym: v.ym, utm_source: 'partner' });
    await noLeadNoErrors(v);
  });
});

describe('page API (README examples)', () => {
  it('calls queued through the stub before t.js loads get the ids: a callback, React state, Jivo, Carrot quest, the amoCRM chat button', async () => {
    const v = await visitor();
    await v.page.goto(`${platform.site}/page-api.html?utm_source=google&utm_medium=cpc`);
    const vid = await v.vid();
    const ids = { tl_vid: vid, tl_ga: v.ga, tl_ym: v.ym, utm_source: 'google', utm_medium: 'cpc' };
    type Page = { idsFromQueue?: Record<string, string>; throughline(command: string): Record<string, string> | undefined; amo_social_button: { params?: unknown[] } };

    // The plain callback, and the synchronous form once t.js has loaded.
    await v.page.waitForFunction(() => !!(window as unknown as Page).idsFromQueue);
    expect(await v.page.evaluate(() => (window as unknown as Page).idsFromQueue)).toMatchObject(ids);
    expect(await v.page.evaluate(() => (window as unknown as Page).throughline('ids'))).toMatchObject(ids);

    // The amoCRM chat button's embed queue holds the lead fields for its script.
    expect(await v.page.evaluate(() => (window as unknown as Page).amo_social_button.params)).toEqual([
      { lead: { custom_fields_values: [{ field_code: 'TL_VID', values: [{ value: vid }] }, { field_code: 'TL_GA', values: [{ value: v.ga }] }] } },
    ]);
    // Carrot quest keeps the site's own property names (and the hook's).
    await until(() => !!carrotUser(vid)?.visitor_id, LATE);
    expect(carrotUser(vid)).toMatchObject({ visitor_id: vid, ga_client_id: v.ga });
    // Jivo: the description a webhook's visitor carries.
    await until(() => !!jivoClient(vid)?.contact_info, LATE);
    expect(jivoClient(vid)!.contact_info).toEqual({ description: `Throughline visitor ${vid}` });

    // React: the ids are in the component's state and go with the app's own request.
    expect(v.leads()).toEqual([]);
    const posted = backend.posted.length;
    await v.page.fill('#contact input[name=email]', 'vera@example.com');
    await v.page.click('#contact button');
    await until(() => backend.posted.length === posted + 1);
    expect(backend.posted.at(-1)).toMatchObject({ email: 'vera@example.com', ...ids });
    await quiet();
    expect(v.leads()).toHaveLength(1);
    expect(v.errors).toEqual([]);
  });
});
