// Each pipeline step alone, and the runner: pure logic, no services. (The one
// step that talks to Redis, `limits`, is covered by the integration tests.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pixelHit } from '../../collector/src/hits/route.js';
import { hashEmail } from '../../collector/src/identity/hash.js';
import { newContext, type HitContext, type PipelineDeps, type RequestFacts, type Step } from '../../collector/src/pipeline/context.js';
import { runPipeline } from '../../collector/src/pipeline/pipeline.js';
import { DROP_REASONS, DROP_STATUS, type Drop } from '../../collector/src/pipeline/reasons.js';
import { bot } from '../../collector/src/pipeline/steps/bot.js';
import { contacts } from '../../collector/src/pipeline/steps/contacts.js';
import { enrich } from '../../collector/src/pipeline/steps/enrich.js';
import { parse } from '../../collector/src/pipeline/steps/parse.js';
import { privacy } from '../../collector/src/pipeline/steps/privacy.js';
import { site } from '../../collector/src/pipeline/steps/site.js';
import { validate } from '../../collector/src/pipeline/steps/validate.js';
import { anonymizeIp, hashIp, IpHasher } from '../../collector/src/privacy/ip.js';
import type { DailySalt } from '../../collector/src/privacy/salt.js';
import { loadSites } from '../../collector/src/sites/registry.js';
import { fileName, replayable } from '../../collector/src/spill/files.js';
import { spilledTables } from '../../collector/src/spill/spill.js';
import { batchOf, journalLine, journalOf, journalText, parseJournal } from '../../collector/src/spill/tables.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const KEY = 'unit-test-identity-key';

/** A salt source that needs no Redis: the steps only call current(). */
const fixedSalt = { current: () => 'salt-of-the-day' } as unknown as DailySalt;

function deps(over: Partial<PipelineDeps> = {}): PipelineDeps {
  return {
    sites: loadSites(undefined),
    salt: fixedSalt,
    limits: { off: true } as PipelineDeps['limits'],
    ipMode: 'hash',
    botFilter: true,
    maxPastMs: 7 * 86_400_000,
    identityKey: KEY,
    phoneCountry: 'RU',
    ...over,
  };
}

function req(over: Partial<RequestFacts> = {}): RequestFacts {
  return { ip: '203.0.113.5', userAgent: UA, origin: undefined, clientHints: '', receivedAt: NOW, ...over };
}

const hit = (over: Record<string, unknown> = {}) => ({ s: 'demo', k: 'visit', e: 'abcdefgh1234', t: NOW - 1000, u: 'https://shop.example/?gclid=x1', r: 'https://www.google.com/', v: 'ab23cd', ...over });

function ctxOf(body: unknown, r: Partial<RequestFacts> = {}): HitContext {
  const ctx = newContext(req(r), { parsed: body });
  return ctx;
}

/** Runs the (synchronous) steps up to and including `last`. */
function upTo(last: Step, ctx: HitContext, d = deps()): Drop | undefined {
  for (const step of [parse, validate, site, bot, privacy, contacts, enrich]) {
    const r = step(ctx, d) as Drop | undefined;
    if (r) return r;
    if (step === last) return undefined;
  }
  return undefined;
}

describe('drop reasons', () => {
  it('are a closed set, each with an HTTP status', () => {
    expect(DROP_REASONS).toContain('bot');
    for (const r of DROP_REASONS) expect([204, 400, 403, 405, 413, 415, 429]).toContain(DROP_STATUS[r]);
  });
});

describe('parse and validate', () => {
  it('drops text that is not JSON', async () => {
    expect(await parse(newContext(req(), { text: '{x' }), deps())).toEqual({ reason: 'malformed_json', detail: 'body is not JSON' });
  });
  it.each([
    [{ t: NOW - 8 * 86_400_000 }, 'invalid_timestamp'],
    [{ t: NOW + 2 * 86_400_000 }, 'invalid_timestamp'],
    [{ t: Number.MAX_SAFE_INTEGER }, 'invalid_timestamp'],
    [{ u: 'https://exa mple.com/' }, 'invalid_url'],
    [{ r: 'not a url' }, 'invalid_url'],
    [{ s: '../etc' }, 'invalid_site'],
  ])('drops %j as %s', (over, reason) => {
    expect(upTo(validate, ctxOf(hit(over)))?.reason).toBe(reason);
  });
  it('knows a referrer again: the same verdict and host the second time, a bad one refused both times', () => {
    for (let i = 0; i < 2; i++) {
      expect(upTo(validate, ctxOf(hit({ r: 'https://exa mple.org/' })))?.reason).toBe('invalid_url');
      const ctx = ctxOf(hit({ r: 'https://L.Facebook.com/x' }));
      expect(upTo(validate, ctx)).toBeUndefined();
      expect(ctx.referrerHost).toBe('l.facebook.com');
    }
  });
  it('passes a hit six days old or an hour ahead (client clocks drift)', () => {
    expect(upTo(validate, ctxOf(hit({ t: NOW - 6 * 86_400_000 })))).toBeUndefined();
    expect(upTo(validate, ctxOf(hit({ t: NOW + 3_600_000 })))).toBeUndefined();
  });
  it('takes older hits when HIT_MAX_AGE_DAYS allows them (backfills)', () => {
    const old = hit({ t: NOW - 300 * 86_400_000 });
    expect(upTo(validate, ctxOf(old))?.reason).toBe('invalid_timestamp');
    expect(upTo(validate, ctxOf(old), deps({ maxPastMs: 365 * 86_400_000 }))).toBeUndefined();
  });
});

describe('site', () => {
  const sites = loadSites(JSON.stringify({ shop: { origins: ['https://shop.example'] }, any: { origins: ['*'] } }));
  it('accepts every site when none are configured', () => {
    expect(upTo(site, ctxOf(hit({ s: 'whatever' }), { origin: 'https://x.example' }))).toBeUndefined();
  });
  it('drops unknown sites and foreign origins once sites are configured', () => {
    expect(upTo(site, ctxOf(hit({ s: 'other' })), deps({ sites }))?.reason).toBe('unknown_site');
    expect(upTo(site, ctxOf(hit({ s: 'shop' }), { origin: 'https://evil.example' }), deps({ sites }))?.reason).toBe('origin_not_allowed');
    expect(upTo(site, ctxOf(hit({ s: 'shop' }), { origin: 'https://SHOP.example' }), deps({ sites }))).toBeUndefined();
    expect(upTo(site, ctxOf(hit({ s: 'any' }), { origin: 'https://x.example' }), deps({ sites }))).toBeUndefined();
    // No Origin header: not a browser's cross-site request (the pixel, a server).
    expect(upTo(site, ctxOf(hit({ s: 'shop' })), deps({ sites }))).toBeUndefined();
  });
  it('answers CORS only for allowed origins', () => {
    expect(sites.corsOrigin('https://shop.example', sites.get('shop'))).toBe('https://shop.example');
    expect(sites.corsOrigin('https://evil.example', sites.get('shop'))).toBeNull();
    expect(loadSites(undefined).corsOrigin('https://evil.example')).toBe('*');
  });
  it('names SITES when its value is bad', () => {
    expect(() => loadSites('{"a b": {}}')).toThrow(/SITES/);
    expect(() => loadSites('{"shop": {"origins": ["shop.example"]}}')).toThrow(/SITES/);
    expect(() => loadSites('{oops')).toThrow(/SITES: not valid JSON/);
  });
  it('reads SITES from a file', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'tl-sites-')), 'sites.json');
    writeFileSync(f, JSON.stringify({ shop: { origins: ['https://shop.example'] } }));
    expect(loadSites(f).get('shop')?.origins.has('https://shop.example')).toBe(true);
  });
});

describe('bot', () => {
  it.each([
    ['Googlebot', { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }, {}],
    ['python', { userAgent: 'python-requests/2.31' }, {}],
    ['HeadlessChrome', { userAgent: UA.replace('Chrome/', 'HeadlessChrome/') }, {}],
    ['headless client hint', { clientHints: '"HeadlessChrome";v="131"' }, {}],
    ['webdriver flag', {}, { w: 1 }],
    ['empty user agent', { userAgent: '' }, {}],
  ])('drops %s', (_name, r, h) => {
    expect(upTo(bot, ctxOf(hit(h), r))?.reason).toBe('bot');
  });
  it('passes a browser, and everything when the filter is off', () => {
    expect(upTo(bot, ctxOf(hit()))).toBeUndefined();
    expect(upTo(bot, ctxOf(hit(), { userAgent: 'curl/8' }), deps({ botFilter: false }))).toBeUndefined();
  });
});

describe('privacy', () => {
  it('hashes the IP under the day salt', () => {
    const ctx = ctxOf(hit());
    upTo(privacy, ctx);
    expect(ctx.ipHash).toBe(hashIp('203.0.113.5', 'salt-of-the-day'));
    expect(ctx.ipHash).not.toContain('203');
  });
  it('or keeps the network only', () => {
    const ctx = ctxOf(hit());
    upTo(privacy, ctx, deps({ ipMode: 'anonymize' }));
    expect(ctx.ipHash).toBe('203.0.113.0');
    expect(anonymizeIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(anonymizeIp('::ffff:198.51.100.7')).toBe('198.51.100.0');
    expect(anonymizeIp('garbage')).toBe('');
  });
  it('caches hashes per salt only', () => {
    const h = new IpHasher();
    expect(h.hash('1.2.3.4', 'a')).toBe(hashIp('1.2.3.4', 'a'));
    expect(h.hash('1.2.3.4', 'b')).toBe(hashIp('1.2.3.4', 'b'));
  });
});

describe('contacts and enrich', () => {
  it('replaces a lead e-mail and phone by hashes and links them', () => {
    const ctx = ctxOf(hit({ k: 'lead', p: { email: 'A@B.ru', phone: '+7 495 123-45-67', name: 'x' } }));
    expect(upTo(enrich, ctx)).toBeUndefined();
    const row = ctx.row!;
    const props = Object.fromEntries(row.prop_keys.map((k, i) => [k, row.prop_values[i]]));
    expect(props).toEqual({ name: 'x', email_hash: hashEmail('a@b.ru', KEY), phone_hash: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(ctx.links.map((l) => `${l.kind_a}-${l.kind_b}`)).toEqual(['visitor-email', 'visitor-phone', 'email-phone']);
    expect(ctx.links[0]).toMatchObject({ id_a: 'AB23CD', evidence: 'form', linked_at: '2026-11-23 12:00:00' });
  });
  it('drops an e-mail that is not one, without storing it', () => {
    const ctx = ctxOf(hit({ k: 'lead', p: { email: 'not-an-email' } }));
    upTo(enrich, ctx);
    expect(ctx.row!.prop_keys).toEqual([]);
    expect(ctx.links).toEqual([]);
  });
  it('classifies the channel from the click id on the server', () => {
    const ctx = ctxOf(hit());
    upTo(enrich, ctx);
    expect(ctx.row).toMatchObject({ click_id_name: 'gclid', channel: 'paid_search', source: 'google', visitor_id: 'AB23CD', user_agent: UA });
  });
});

describe('runner', () => {
  it('stops at the first drop', () => {
    const seen: string[] = [];
    const mark = (name: string): Step => () => {
      seen.push(name);
      return undefined;
    };
    const stop: Step = () => ({ reason: 'bot' });
    expect(runPipeline(ctxOf({}), deps(), [mark('a'), stop, mark('b')])).toEqual({ reason: 'bot' });
    expect(seen).toEqual(['a']);
  });
});

describe('pixel', () => {
  it('reads the hit from d= or from the wire keys, filling what a noscript pixel cannot know', () => {
    expect(pixelHit(new URLSearchParams({ d: '{"s":"x"}' }), undefined, NOW)).toEqual({ s: 'x' });
    expect(pixelHit(new URLSearchParams({ d: '{' }), undefined, NOW)).toBeUndefined();
    const o = pixelHit(new URLSearchParams({ s: 'demo' }), 'https://shop.example/page', NOW) as Record<string, unknown>;
    expect(o).toMatchObject({ s: 'demo', k: 'visit', t: NOW, u: 'https://shop.example/page' });
    expect(o.e).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('journal files', () => {
  const rowsOf = (tables: Record<string, Buffer>) => Object.fromEntries(Object.entries(tables).map(([t, body]) => [t, body.toString('utf8')]));

  it('reads back blocks and the lines of earlier versions, skipping a torn end', () => {
    const blocks = journalOf([
      { stream: 'hits', buf: Buffer.from('{"a":1}\n{"c":"é"}\n') },
      { stream: 'identity_links', buf: Buffer.from('{"b":2}\n') },
    ]);
    expect(blocks.toString()).toBe('=hits\t19\n{"a":1}\n{"c":"é"}\n=identity_links\t8\n{"b":2}\n');
    const legacy = journalLine('hits', '{"d":4}');
    const torn = journalOf([{ stream: 'hits', buf: Buffer.from('{"e":5}\n{"f":6}\n') }]).subarray(0, -4);
    const { tables, rows } = parseJournal(Buffer.concat([blocks, Buffer.from(legacy), torn]));
    expect(rows).toBe(5);
    expect(rowsOf(tables)).toEqual({ hits: '{"a":1}\n{"c":"é"}\n{"d":4}\n{"e":5}\n', identity_links: '{"b":2}\n' });
    expect(parseJournal(journalLine('hits', '{"a":1}') + 'hits\t{"a":').rows).toBe(1);
  });
  it('replays a batch from the Redis spill in the journal format, or as earlier versions wrote it', () => {
    const row = (v: string) => Array(26).fill(v).join('\t'); // a hit row has 26 fields
    const tables = { 'hits.tsv': Buffer.from(`${row('a')}\n${row('b')}\n`), identity_links: Buffer.from('{"l":1}\n') };
    expect(rowsOf(spilledTables(journalText(tables)))).toEqual({ 'hits.tsv': `${row('a')}\n${row('b')}\n`, identity_links: '{"l":1}\n' });
    const old = Buffer.from(JSON.stringify({ hits: ['{"a":1}', '{"b":"é"}'], identity_links: ['{"l":1}'] }));
    expect(rowsOf(spilledTables(old))).toEqual({ hits: '{"a":1}\n{"b":"é"}\n', identity_links: '{"l":1}\n' });
  });
  it('reads on past a block that a failed write cut short', () => {
    const whole = journalOf([{ stream: 'hits', buf: Buffer.from('{"a":1}\n{"b":2}\n') }]);
    const cut = journalOf([{ stream: 'hits', buf: Buffer.from('{"c":3}\n{"d":4}\n') }]).subarray(0, -5);
    const next = journalOf([{ stream: 'identity_links', buf: Buffer.from('{"l":1}\n') }]);
    // The failed write's bytes stayed, the next write began on a line of its own.
    const text = Buffer.concat([whole, cut, Buffer.from('\n'), next]);
    const { tables, rows } = parseJournal(text);
    expect(rowsOf(tables)).toEqual({ hits: '{"a":1}\n{"b":2}\n{"c":3}\n', identity_links: '{"l":1}\n' });
    expect(rows).toBe(4);
  });
  it('puts a segment’s blocks end to end per stream, leaving out the rows of refused hits', () => {
    // A segment keeps each stream's rows in one buffer, block after block.
    const hits = Buffer.from('h1\nh2\nh3\nh4\nh5\nh6\n');
    const links = Buffer.from('{"l":2}\n{"l":5}\n');
    const blocks = [
      { stream: 'hits.tsv', buf: hits, start: 0, end: 9, excluded: [1] },
      { stream: 'identity_links', buf: links, start: 0, end: 8, excluded: [0] },
      { stream: 'hits.tsv', buf: hits, start: 9, end: 15, excluded: null },
      { stream: 'identity_links', buf: links, start: 8, end: 16, excluded: null },
      { stream: 'hits.tsv', buf: hits, start: 15, end: 18, excluded: null },
    ];
    const tables = batchOf(blocks);
    expect(rowsOf(tables)).toEqual({ 'hits.tsv': 'h1\nh3\nh4\nh5\nh6\n', identity_links: '{"l":5}\n' });
    expect(journalText(tables).toString()).toBe('=hits.tsv\t15\nh1\nh3\nh4\nh5\nh6\n=identity_links\t8\n{"l":5}\n');
    // Whole blocks that follow each other are taken as they lie, without a copy.
    const whole = batchOf(blocks.slice(2).filter((b) => b.stream === 'hits.tsv'))['hits.tsv']!;
    expect(whole.toString()).toBe('h4\nh5\nh6\n');
    expect(whole.buffer).toBe(hits.buffer);
    expect(whole.byteOffset).toBe(hits.byteOffset + 9);
  });
  it('reads no table name from a file that could reach the INSERT statement', () => {
    const { tables, rows } = parseJournal('hits; DROP TABLE x\t{"a":1}\nhits\t{"b":1}\n');
    expect(rows).toBe(1);
    expect(Object.keys(tables)).toEqual(['hits']);
  });
  it('replays own spooled files and every file of a dead instance, never a live one’s journal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-files-'));
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    // An earlier version's name (.ndjson) is replayed like the current one (.journal).
    const older = `s-${dead}-5-00000002.ndjson`;
    for (const name of [fileName('j', process.pid, 1, 1), fileName('s', process.pid, 1, 2), fileName('j', dead, 5, 1), fileName('j', process.pid, 0, 3), older, 'other.txt', 'bad-1-1-1.journal']) {
      writeFileSync(join(dir, name), '');
    }
    expect(fileName('j', 1, 2, 3)).toBe('j-1-2-00000003.journal');
    const names = replayable(dir, process.pid, 1).map((f) => f.name);
    expect(names.sort()).toEqual([fileName('j', process.pid, 0, 3), fileName('s', process.pid, 1, 2), fileName('j', dead, 5, 1), older].sort());
  });
});
