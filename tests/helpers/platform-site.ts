// The frame of the form-builder browser tests: a real collector (ClickHouse and
// Redis), a fixture site on one origin that includes the real tracker, a second
// origin for what a vendor hosts (its scripts, its cross-origin iframes), and
// Chromium visitors whose hits and page errors are recorded.
//
// A fixture registers its pages and its stand-in of the platform's server on
// the two Express apps; `fill` puts the tracker's tag and the origins into a
// page: {{TRACKER}}, {{SITE}}, {{OTHER}}, {{COLLECTOR}}.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from './browser.js';
import { freshDatabase, type TestDatabase } from './clickhouse.js';
import { freePort, startCollector, type RunningCollector } from './collector.js';

/** A hit as the tracker sends it (tracker/src/transport.ts). */
export type SentHit = { s: string; k: string; e: string; t: number; u: string; r: string; g: string; y: string; v: string; p?: Record<string, string> };

/**
 * The other tools' ids a visitor carries, its own as in a real browser (the
 * collector gives a visitor whose cookie was lost its old id by them): a GA
 * client id (`_ga` is `GA1.2.<id>`) and a Metrika id, 19 digits.
 */
let visitors = 0;
const otherIds = () => {
  const n = Date.now() * 100 + (visitors++ % 100);
  return { ga: `${908899769 + (n % 1e9)}.1600020018`, ym: `1551977${String(n).padStart(12, '0').slice(-12)}` };
};

export type Visitor = {
  context: BrowserContext;
  page: Page;
  /** Every hit any page of this visitor sent to the collector (beacon or image), parsed, in order. */
  hits: SentHit[];
  /** The lead hits so far. */
  leads(): SentHit[];
  /** Uncaught errors of any page or frame of this visitor. */
  errors: string[];
  /** The visitor id the tracker was issued (its tl_vid cookie); waits for it. */
  vid(): Promise<string>;
  /** Its GA client id and Metrika id (cookies _ga and _ym_uid; none for a bare visitor). */
  ga: string;
  ym: string;
};

export type PlatformSite = {
  collector: RunningCollector;
  /** The fixture site's origin, e.g. http://localhost:41234 (the tracker runs here). */
  site: string;
  /** Another origin, e.g. http://127.0.0.1:41235: the vendor's host. */
  other: string;
  /** The tracker's tag as a site pastes it; `attrs` adds data- attributes. */
  trackerTag(attrs?: string): string;
  /** A page's HTML with {{TRACKER}}, {{SITE}}, {{OTHER}} and {{COLLECTOR}} filled in. */
  fill(html: string): string;
  /** Serves a fixture file (filled) at a path of the site or the other origin. */
  page(app: 'site' | 'other', path: string, file: string): void;
  /** A new visitor: automation allowed, _ga and _ym_uid set (unless `bare`). */
  visitor(opts?: { bare?: boolean }): Promise<Visitor>;
  stop(): Promise<void>;
};

export type FixtureApps = { site: express.Express; other: express.Express; fill: (html: string) => string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (5 s by default), then asserts it. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await sleep(50);
  expect(await cond()).toBe(true);
}

/** Long enough for a hit that must NOT come to have come (the tracker scans every 300 ms). */
export const quiet = (): Promise<void> => sleep(1500).then(() => undefined);

export async function startPlatformSite(register: (apps: FixtureApps) => void, collectorEnv: Record<string, string> = {}): Promise<PlatformSite> {
  const db: TestDatabase = await freshDatabase();
  const prefix = `pf_${randomBytes(4).toString('hex')}:`;
  const collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REDIS_PREFIX: prefix, VISIT_THROTTLE_SECONDS: '0', ...collectorEnv });
  const [sitePort, otherPort] = [await freePort(), await freePort()];
  const site = `http://localhost:${sitePort}`;
  const other = `http://127.0.0.1:${otherPort}`;
  const trackerTag = (attrs = '') => `<script async src="${collector.url}/t.js" data-site="fixture" ${attrs}></script>`;
  const fill = (html: string) =>
    html.replaceAll('{{TRACKER}}', trackerTag()).replaceAll('{{SITE}}', site).replaceAll('{{OTHER}}', other).replaceAll('{{COLLECTOR}}', collector.url);
  const apps = { site: express(), other: express() };
  for (const app of Object.values(apps)) app.disable('x-powered-by');
  register({ ...apps, fill });
  const servers: Server[] = [];
  const listen = (app: express.Express, port: number, host: string) =>
    new Promise<void>((resolve) => servers.push(createServer(app).listen(port, host, resolve)));
  await listen(apps.site, sitePort, '127.0.0.1');
  await listen(apps.other, otherPort, '127.0.0.1');
  const browser: Browser = await launchChromium();

  return {
    collector,
    site,
    other,
    trackerTag,
    fill,
    page(app, path, file) {
      apps[app].get(path, (_req, res) => void res.type('html').send(fill(readFileSync(file, 'utf8'))));
    },
    async visitor(opts = {}) {
      const context = await browser.newContext();
      const { ga, ym } = otherIds();
      if (!opts.bare) {
        await context.addCookies([
          { name: '_ga', value: `GA1.2.${ga}`, domain: 'localhost', path: '/' },
          { name: '_ym_uid', value: ym, domain: 'localhost', path: '/' },
        ]);
      }
      const hits: SentHit[] = [];
      const errors: string[] = [];
      context.on('request', (req) => {
        const url = req.url();
        if (url === `${collector.url}/hit`) hits.push(JSON.parse(req.postData() ?? '{}') as SentHit);
        else if (url.startsWith(`${collector.url}/p.gif?d=`)) hits.push(JSON.parse(decodeURIComponent(url.slice(url.indexOf('?d=') + 3))) as SentHit);
      });
      const watch = (p: Page) => p.on('pageerror', (err) => errors.push(`${p.url()}: ${err.message}`));
      context.on('page', watch);
      const page = await context.newPage();
      return {
        context,
        page,
        hits,
        errors,
        leads: () => hits.filter((h) => h.k === 'lead'),
        ga,
        ym,
        async vid() {
          let vid = '';
          await until(async () => !!(vid = (await context.cookies(site)).find((c) => c.name === 'tl_vid')?.value ?? ''));
          return vid;
        },
      };
    },
    async stop() {
      await browser.close();
      for (const s of servers) s.close();
      await collector.stop();
      await db.drop();
    },
  };
}

/**
 * The fields of a form post as a platform's server reads them, in order:
 * multipart/form-data (a FormData sent by fetch or XHR, a form with
 * enctype="multipart/form-data") or application/x-www-form-urlencoded. File
 * parts are left out. Node's own multipart parser (Response#formData) reads it.
 */
export async function formFields(req: express.Request): Promise<[string, string][]> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.get('content-type') ?? '' } }).formData();
  return [...form].filter((e): e is [string, string] => typeof e[1] == 'string');
}
