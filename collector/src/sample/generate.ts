// The demo's sample: four months of a small fitness studio's marketing, made
// from a fixed seed so that the same day gives the same sample, and tests can
// work out what the report must say from this very data. People come through
// the channels a Russian small business buys and gets (Yandex and Google ads,
// VK ads and posts, organic search, a blog link, a newsletter, direct), some
// leave the site's form, and their deals go through the demo's funnel to won,
// lost (from the stage they were in), returned, on hold or still open. Paid
// campaigns have daily costs from their clicks, so some channels pay off and
// others do not.
//
// Everything is placed relative to `anchor` (a UTC day): its shape (people,
// visits, deals, outcomes, costs) does not depend on the day, only its times,
// all before the anchor day starts.
import { ALPHABET, ID_LENGTH } from '../../../contract/ids.js';
import { DEMO_IMPORT } from './demo-crm.js';

/** The sample site's address (its visits carry it; nothing is served there). */
export const SAMPLE_SITE_URL = 'https://northwind.example';

const SEED = 0x5eed_2026;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** How far back the sample goes. */
export const SAMPLE_DAYS = 120;
const PEOPLE = 420;

/** Where a visit comes from: its landing's tags or its referrer, and the channel that makes it (channels/classify.ts). */
type Origin = {
  channel: string;
  /** The landing's query string (UTM tags), '' for none. */
  query: string;
  referrer: string;
  /** How often people first come this way (relative). */
  weight: number;
  /** Of the people this origin brought last (before direct returns), how many leave the form. */
  lead: number;
  /** A typical won deal of theirs, in minor units. */
  amount: number;
  /** What a click costs (minor units), for the paid campaigns: their daily costs. */
  cpc?: number;
};

const ORIGINS: Origin[] = [
  { channel: 'paid_search', query: 'utm_source=yandex&utm_medium=cpc&utm_campaign=brand', referrer: 'https://yandex.ru/', weight: 13, lead: 0.42, amount: 3_200_000, cpc: 25_000 },
  { channel: 'paid_search', query: 'utm_source=yandex&utm_medium=cpc&utm_campaign=generic', referrer: 'https://yandex.ru/', weight: 12, lead: 0.22, amount: 2_600_000, cpc: 90_000 },
  { channel: 'paid_search', query: 'utm_source=google&utm_medium=cpc&utm_campaign=search', referrer: 'https://www.google.com/', weight: 8, lead: 0.1, amount: 2_400_000, cpc: 100_000 },
  { channel: 'paid_social', query: 'utm_source=vk&utm_medium=cpc&utm_campaign=spring', referrer: 'https://vk.com/', weight: 10, lead: 0.12, amount: 1_800_000, cpc: 70_000 },
  { channel: 'social', query: '', referrer: 'https://vk.com/northwind_fitness', weight: 6, lead: 0.14, amount: 1_600_000 },
  { channel: 'organic_search', query: '', referrer: 'https://www.google.com/', weight: 8, lead: 0.28, amount: 2_800_000 },
  { channel: 'organic_search', query: '', referrer: 'https://yandex.ru/', weight: 9, lead: 0.3, amount: 2_800_000 },
  { channel: 'referral', query: '', referrer: 'https://fitblog.example.org/best-gyms-2026', weight: 5, lead: 0.24, amount: 2_200_000 },
  { channel: 'email', query: 'utm_source=newsletter&utm_medium=email&utm_campaign=march', referrer: '', weight: 4, lead: 0.36, amount: 2_000_000 },
  { channel: 'direct', query: '', referrer: '', weight: 7, lead: 0.18, amount: 2_400_000 },
];
const DIRECT = ORIGINS.find((o) => o.channel === 'direct')!;

/** Pages a returning visitor lands on without a campaign. */
const PAGES = ['/', '/about.html', '/prices.html', '/schedule.html'];

export type SampleVisit = {
  eventId: string;
  visitorId: string;
  kind: 'visit' | 'lead';
  /** Epoch ms. */
  ts: number;
  url: string;
  referrer: string;
  /** The channel the visit is made to fall into. */
  channel: string;
};

/** A change of a deal as the JSON import takes it (crm/import/rows.ts). */
export type SampleDealVersion = {
  id: string;
  name: string;
  status: string;
  amount: string;
  created_at: number;
  updated_at: number;
  fields: Record<string, string>;
};

export type SampleOutcome = 'won' | 'lost' | 'returned' | 'paused' | 'open';

export type SampleDeal = {
  id: string;
  visitorId: string;
  /** The channel of the person's last visit that was not direct (direct when all were): last-non-direct credits it. */
  channel: string;
  outcome: SampleOutcome;
  /** For a lost deal, the stage it was lost from. */
  lostFrom: string;
  /** The funnel stages it passed (the won marker fills in every stage before it). */
  passed: string[];
  amountMinor: number;
  versions: SampleDealVersion[];
};

export type SampleCost = { date: string; source: string; medium: string; campaign: string; cost: string };

export type Sample = { anchor: string; visits: SampleVisit[]; deals: SampleDeal[]; costs: SampleCost[] };

/** mulberry32: a small seeded generator, the same numbers on every machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const STAGE = DEMO_IMPORT.statuses;
/** The import statuses of the funnel's ordinary stages, in order. */
const ORDINARY = ['new', 'qualified', 'proposal'];
const OUTCOME_OF: Record<string, SampleOutcome> = { paid: 'won', refused: 'lost', refunded: 'returned', 'on hold': 'paused' };

/** The sample of the day `anchor` (YYYY-MM-DD, UTC). */
export function generateSample(anchor: string): Sample {
  const start = Date.parse(`${anchor}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(anchor) || !Number.isFinite(start)) throw new RangeError(`not a day: ${anchor}`);
  const rnd = seeded(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
  const weighted = (): Origin => {
    let x = rnd() * ORIGINS.reduce((s, o) => s + o.weight, 0);
    for (const o of ORIGINS) if ((x -= o.weight) < 0) return o;
    return ORIGINS[ORIGINS.length - 1]!;
  };
  const taken = new Set<string>();
  const newVisitorId = (): string => {
    for (;;) {
      const id = Array.from({ length: ID_LENGTH }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('');
      if (taken.has(id)) continue;
      taken.add(id);
      return id;
    }
  };

  const visits: SampleVisit[] = [];
  const deals: SampleDeal[] = [];
  /** Clicks per paid campaign and day: the costs. */
  const clicks = new Map<string, number>();
  // Nothing happens in the last hour before the anchor day: all of it is past on that day.
  const last = start - HOUR;
  const landing = (o: Origin) => (o.query ? `${SAMPLE_SITE_URL}/?${o.query}` : `${SAMPLE_SITE_URL}${pick(PAGES)}`);

  for (let p = 0; p < PEOPLE; p++) {
    const visitorId = newVisitorId();
    const first = weighted();
    const path: Origin[] = [first];
    const more = (rnd() < 0.45 ? 1 : 0) + (rnd() < 0.25 ? 1 : 0) + (rnd() < 0.1 ? 1 : 0);
    for (let i = 0; i < more; i++) {
      const r = rnd();
      path.push(r < 0.5 ? DIRECT : r < 0.8 ? first : weighted());
    }
    let t = start - SAMPLE_DAYS * DAY + between(0, (SAMPLE_DAYS - 6) * 24) * HOUR + between(0, 60) * MINUTE;
    let previous: SampleVisit | null = null;
    /** Where the person's visits came from, those made before the anchor day. */
    const came: Origin[] = [];
    for (const [i, o] of path.entries()) {
      if (i > 0) t += between(1, 96) * HOUR + between(0, 60) * MINUTE;
      if (t > last) break;
      const visit: SampleVisit = { eventId: `sample-v${visits.length + 1}`, visitorId, kind: 'visit', ts: t + between(0, 1000), url: landing(o), referrer: o.referrer, channel: o.channel };
      visits.push(visit);
      came.push(o);
      previous = visit;
      if (o.cpc) {
        const key = `${new Date(t).toISOString().slice(0, 10)} ${o.query}`;
        clicks.set(key, (clicks.get(key) ?? 0) + 1);
      }
    }
    const deciding = came.reverse().find((o) => o.channel !== 'direct') ?? DIRECT;
    if (!previous || rnd() >= deciding.lead) continue;

    // The form, a few minutes after the last visit.
    const leadAt = previous.ts + between(2, 8) * MINUTE;
    if (leadAt > last) continue;
    // Sent from the site's own page, so of the channel direct (a lead is a conversion; its visits are the touches).
    visits.push({ eventId: `sample-l${visits.length + 1}`, visitorId, kind: 'lead', ts: leadAt, url: `${SAMPLE_SITE_URL}/thanks.html`, referrer: previous.url, channel: 'direct' });
    if (rnd() >= 0.78) continue; // a form lead that never became a deal

    const id = `S-${1001 + deals.length}`;
    const created = Math.floor((leadAt + between(15, 90) * MINUTE) / 1000);
    if (created * 1000 > last) continue;
    const amountMinor = Math.round((deciding.amount * (0.6 + 0.8 * rnd())) / 50_000) * 50_000;
    const r = rnd();
    const aim: SampleOutcome = r < 0.42 ? 'won' : r < 0.75 ? 'lost' : r < 0.8 ? 'returned' : r < 0.85 ? 'paused' : 'open';
    // The statuses the deal goes through, one a few days after the other.
    const steps = ['new'];
    if (aim === 'won' || aim === 'returned') steps.push(...ORDINARY.slice(1, between(1, 4)), 'paid', ...(aim === 'returned' ? ['refunded'] : []));
    else if (aim === 'lost') steps.push(...ORDINARY.slice(1, between(1, 4)), 'refused');
    else if (aim === 'paused') steps.push('qualified', 'on hold');
    else steps.push(...ORDINARY.slice(1, between(1, 4)));
    const fields: Record<string, string> = { tl_vid: visitorId };
    for (const [k, v] of new URLSearchParams(deciding.query)) fields[k] = v;
    const versions: SampleDealVersion[] = [];
    let at = created;
    for (const [i, status] of steps.entries()) {
      if (i > 0) at += between(6, 96) * 3600 + between(0, 3600);
      // A deal whose next step would fall on or after the anchor day is where it was then.
      if (at * 1000 > last) break;
      versions.push({ id, name: `Training package ${id}`, status, amount: (amountMinor / 100).toFixed(2), created_at: created, updated_at: at, fields });
    }
    const statuses = versions.map((v) => v.status);
    const final = statuses[statuses.length - 1]!;
    const outcome = OUTCOME_OF[final] ?? 'open';
    // Every status's stage is passed; once paid, every ordinary stage too.
    const passed = new Set([...statuses, ...(statuses.includes('paid') ? ORDINARY : [])]);
    deals.push({
      id,
      visitorId,
      channel: deciding.channel,
      outcome,
      lostFrom: outcome === 'lost' ? STAGE[statuses[statuses.length - 2]!]! : '',
      passed: Object.keys(STAGE).filter((s) => passed.has(s)).map((s) => STAGE[s]!),
      amountMinor,
      versions,
    });
  }

  const costs: SampleCost[] = [...clicks].map(([key, n]) => {
    const [date, query] = key.split(' ') as [string, string];
    const tags = new URLSearchParams(query);
    const origin = ORIGINS.find((o) => o.query === query)!;
    return { date, source: tags.get('utm_source')!, medium: tags.get('utm_medium')!, campaign: tags.get('utm_campaign')!, cost: ((n * origin.cpc!) / 100).toFixed(2) };
  });
  return { anchor, visits, deals, costs };
}
