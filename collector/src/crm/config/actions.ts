// Actions on entering a funnel stage (amoCRM Digital Pipeline's actions, done
// in the open): when a deal enters a stage, a GA4 event, a signed webhook, or
// both (outbound/actions/ sends them). Configured at the top of the CRM
// configuration:
//   "stageActions": [{ "stage": "2 Qualified",
//                      "ga4Event": { "name": "qualify_lead", "params": { "lead_source": "crm" } },
//                      "webhook": { "url": "https://hooks.example.com/throughline", "secret": "…32+ characters…" } }]
// A stage may be named by several entries (two webhooks to two receivers), not
// with the same GA4 event or the same webhook URL twice. GA4's own rules are
// checked here, so an event GA4 would drop in silence (its production endpoint
// answers 2xx to everything) is refused when it is configured instead.
import { z } from 'zod';
import { NO_CONTROL } from '../text.js';

/**
 * Actions of one kind (GA4 events, webhooks) one stage may have: a stage's
 * actions take the steps `entry × ACTIONS_PER_STAGE + slot` in the outbox
 * (outbound/actions/plan.ts), so each needs a slot of its own.
 */
export const ACTIONS_PER_STAGE = 16;

/** GA4's limits on an event (support.google.com/analytics/answer/9267744): names of 40 characters, values of 100, 25 parameters. */
export const GA4_NAME_CHARS = 40;
export const GA4_VALUE_CHARS = 100;
export const GA4_MAX_PARAMS = 25;
/** The parameters Throughline adds to every stage event: the stage, and the deal's amount when it has one. */
export const ADDED_PARAMS = ['deal_stage', 'value', 'currency'] as const;
/** What is left of GA4's 25 for the configured parameters. */
export const MAX_OWN_PARAMS = GA4_MAX_PARAMS - ADDED_PARAMS.length;

/**
 * Event names GA4 reserves (the Measurement Protocol reference's "Reserved
 * names", and the web stream's list in the event naming rules,
 * support.google.com/analytics/answer/13316687). Sent anyway, GA4 drops them.
 */
const RESERVED_EVENTS = new Set([
  'ad_activeview', 'ad_click', 'ad_exposure', 'ad_impression', 'ad_query', 'ad_reward', 'adunit_exposure', 'app_background',
  'app_clear_data', 'app_exception', 'app_install', 'app_remove', 'app_store_refund', 'app_store_subscription_cancel',
  'app_store_subscription_convert', 'app_store_subscription_renew', 'app_update', 'app_upgrade', 'click', 'dynamic_link_app_open',
  'dynamic_link_app_update', 'dynamic_link_first_open', 'error', 'file_download', 'firebase_campaign', 'firebase_in_app_message_action',
  'firebase_in_app_message_dismiss', 'firebase_in_app_message_impression', 'first_open', 'first_visit', 'form_start', 'form_submit',
  'in_app_purchase', 'notification_dismiss', 'notification_foreground', 'notification_open', 'notification_receive', 'os_update',
  'page_view', 'screen_view', 'scroll', 'session_start', 'user_engagement', 'video_complete', 'video_progress', 'video_start',
  'view_search_results',
]);
/** Parameter names GA4 reserves. */
const RESERVED_PARAMS = new Set(['engagement_time_msec', 'firebase_conversion', 'gclid', 'session_id', 'session_number']);
/** Prefixes GA4 reserves for event and parameter names (`_` and `gtag.` cannot start a valid name anyway). */
const RESERVED_PREFIXES = ['firebase_', 'ga_', 'google_'];

/** A letter first, then letters, digits and `_` (GA4 takes letters of any script). */
const GA4_NAME = /^\p{L}[\p{L}\p{M}\p{Nd}_]*$/u;

/** Why a GA4 event or parameter name is refused; null when GA4 takes it. */
export function ga4NameProblem(name: string, kind: 'event' | 'parameter'): string | null {
  if (name === '') return 'empty';
  if ([...name].length > GA4_NAME_CHARS) return `longer than ${GA4_NAME_CHARS} characters (GA4's limit on ${kind} names)`;
  if (!/^\p{L}/u.test(name)) return `must start with a letter (GA4's rule for ${kind} names)`;
  if (!GA4_NAME.test(name)) return `letters, digits and _ only (GA4's rule for ${kind} names)`;
  const prefix = RESERVED_PREFIXES.find((p) => name.toLowerCase().startsWith(p));
  if (prefix) return `the prefix "${prefix}" is reserved by GA4`;
  if ((kind === 'event' ? RESERVED_EVENTS : RESERVED_PARAMS).has(name)) return `"${name}" is a name GA4 reserves`;
  return null;
}

/** The largest number a parameter may carry: past it a double loses whole units, and no real parameter is that big. */
const MAX_PARAM_NUMBER = Number.MAX_SAFE_INTEGER;

/** Why a parameter value is refused; null when GA4 takes it. */
export function paramValueProblem(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'not a finite number';
    if (Math.abs(value) > MAX_PARAM_NUMBER) return `a number beyond ±${MAX_PARAM_NUMBER}`;
    return null;
  }
  if (typeof value !== 'string') return 'a text or a number';
  if ([...value].length > GA4_VALUE_CHARS) return `longer than ${GA4_VALUE_CHARS} characters (GA4's limit on parameter values)`;
  if (!NO_CONTROL.test(value)) return 'control and invisible format characters are not allowed';
  return null;
}

const ga4Event = z
  .object({
    name: z.string().superRefine((name, ctx) => {
      const problem = ga4NameProblem(name, 'event');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    // Checked as the entries of the value given (a record schema would drop a `__proto__` key in silence:
    // here it is a name like any other, and refused as one).
    params: z
      .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an object of parameter names and values')
      .default({})
      .superRefine((params, ctx) => {
        const entries = Object.entries(params);
        if (entries.length > MAX_OWN_PARAMS) {
          ctx.addIssue({ code: 'custom', message: `at most ${MAX_OWN_PARAMS} parameters: GA4 takes ${GA4_MAX_PARAMS} per event, and Throughline adds ${ADDED_PARAMS.join(', ')}` });
        }
        for (const [name, value] of entries) {
          const problem = (ADDED_PARAMS as readonly string[]).includes(name)
            ? `set by Throughline on every stage event`
            : (ga4NameProblem(name, 'parameter') ?? paramValueProblem(value));
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
        }
      }),
  })
  .strict();

/** The ports fetch() refuses to connect to (the Fetch standard's "bad port" list): a webhook there would fail at every try. */
const BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119,
  123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
  993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The longest webhook address taken: far above any real one, far below what a log line should carry. */
const MAX_URL_CHARS = 2000;

const webhookUrl = z
  .string()
  .max(MAX_URL_CHARS, `at most ${MAX_URL_CHARS} characters`)
  // Before the URL parser, which drops tabs and line breaks without a word.
  .regex(NO_CONTROL, 'control and invisible format characters are not allowed')
  .pipe(z.url({ protocol: /^https?$/, error: 'an http(s) URL' }))
  .superRefine((u, ctx) => {
    // Refinements run after a failed check too: a URL that does not parse was named already.
    if (!URL.canParse(u)) return;
    const parsed = new URL(u);
    if (parsed.username || parsed.password) ctx.addIssue({ code: 'custom', message: 'no user or password in the URL: the receiver checks the signature instead' });
    if (parsed.port && BAD_PORTS.has(Number(parsed.port))) ctx.addIssue({ code: 'custom', message: `port ${parsed.port} is one the Fetch standard blocks (a "bad port"): no request would ever be made` });
  });

const webhook = z
  .object({
    url: webhookUrl,
    // The HMAC key: the receiver holds the same. Printable ASCII, so it is the same bytes wherever it is pasted.
    secret: z
      .string()
      .min(32, 'at least 32 characters')
      .max(256, 'at most 256 characters')
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII characters only, no spaces'),
  })
  .strict();

const stageAction = z
  .object({
    stage: z.string().min(1).max(100).regex(NO_CONTROL, 'control and invisible format characters are not allowed'),
    ga4Event: ga4Event.optional(),
    webhook: webhook.optional(),
  })
  .strict()
  .refine((a) => a.ga4Event || a.webhook, 'give a ga4Event, a webhook or both');

export const stageActionsSchema = z.array(stageAction).max(100, 'at most 100 stage actions').default([]);

export type StageAction = z.output<typeof stageAction>;

/**
 * What the schema alone cannot see: every stage is one of the funnel's, and a
 * stage sends one GA4 event of a name and one webhook to a URL once (the same
 * entry would otherwise fire twice), with at most ACTIONS_PER_STAGE of each.
 */
export function stageActionProblems(actions: StageAction[], stages: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const count = new Map<string, number>();
  actions.forEach((a, i) => {
    if (!stages.has(a.stage)) problems.push(`stageActions.${i}.stage: no stage "${a.stage}" in the funnel`);
    const kinds: [string, string, string | undefined][] = [
      ['ga4Event', 'a GA4 event', a.ga4Event?.name],
      ['webhook', 'a webhook', a.webhook?.url],
    ];
    for (const [kind, words, id] of kinds) {
      if (id === undefined) continue;
      const key = JSON.stringify([a.stage, kind, id]);
      const before = seen.get(key);
      if (before !== undefined) problems.push(`stageActions.${i}.${kind}: stage "${a.stage}" already has ${words} ${JSON.stringify(id)} (stageActions.${before})`);
      else seen.set(key, i);
      const n = (count.get(JSON.stringify([a.stage, kind])) ?? 0) + 1;
      count.set(JSON.stringify([a.stage, kind]), n);
      if (n === ACTIONS_PER_STAGE + 1) problems.push(`stageActions.${i}.${kind}: stage "${a.stage}" has more than ${ACTIONS_PER_STAGE} actions of this kind`);
    }
  });
  return problems;
}
