// The outbox page, rendered on the server from the outbox's view (view.ts): the
// senders on, the counts by state and the last sweep, then the newest pending,
// failed and too-old messages, each failed one with its Try again form. Plain
// forms and links, no script. Everything that came from elsewhere (a vendor's
// answer, a deal's id, a sender's name) is made visible and cut (visible.ts),
// then escaped; a control or invisible character's escape is marked apart.
import { FIELD } from '../../crm/setup/form.js';
import { SETUP_PATH } from '../../crm/setup/page.js';
import { esc, htmlDocument } from '../../web/html.js';
import { LANGS, type Lang } from '../../web/lang.js';
import { STATES, writtenAt, type Message, type NotTried } from '../outbox.js';
import { OUTBOX_PATH, TRY_AGAIN_PATH } from './path.js';
import { OUTBOX_TEXT, type OutboxText } from './text.js';
import type { OutboxView } from './view.js';
import { shown, visible } from './visible.js';

/** The form field that carries the setup page's form token: the setup form's own. */
export const FORM_TOKEN_FIELD = FIELD.token;
/** The form field naming the message to try again (messageKey). */
export const MESSAGE_FIELD = 'message';

/** The most shown of a vendor's answer (the outbox keeps 500 characters and a status), and of a name or id. */
const ANSWER_SHOWN = 300;
const NAME_SHOWN = 120;

const CSS = `.outbox th,.outbox td{text-align:left;white-space:normal;vertical-align:top}
.outbox td.num{text-align:right}.outbox td.answer{max-width:38em;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:13px}
.note,small{color:#555}#lang,#pages{margin-bottom:8px}.tried{border:1px solid #2a9d8f;padding:8px 12px;background:#e8f6f4}
.outbox form{margin:0}td.when,td.value{white-space:nowrap}.outbox th.num{text-align:right}
.esc{color:#b3261e;background:#fdecee;border-radius:3px;padding:0 1px;font-family:ui-monospace,monospace}`;

/** A message's key in the Try again form: its sender, subject and step, whatever characters they hold (a form would turn a newline into CRLF). */
export const messageKey = (m: Pick<Message, 'sender' | 'subject' | 'step'>) => Buffer.from(JSON.stringify([m.sender, m.subject, m.step])).toString('base64url');

/** The message a Try again names, or null for anything that is not a key (messageKey) of one. */
export function messageOfKey(key: string | null): { sender: string; subject: string; step: number } | null {
  if (!key || key.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(key)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(key, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [sender, subject, step] = v as unknown[];
    if (typeof sender !== 'string' || typeof subject !== 'string' || !Number.isSafeInteger(step) || (step as number) < 0 || (step as number) > 0xffffffff) return null;
    return { sender, subject, step: step as number };
  } catch {
    return null;
  }
}

const utc = (s: number) => (Number.isFinite(s) && Math.abs(s) < 1e11 ? new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ') : '—');

/** Outside text, visible, cut and escaped, each character's escape marked; what was cut is said below it. */
function outside(t: OutboxText, s: string, max: number): string {
  const v = shown(s, max);
  const text = v.pieces.map((p) => (p.escaped ? `<span class="esc">${esc(p.text)}</span>` : esc(p.text))).join('');
  return `${text}${v.cut ? `…<br><small class="cut">${esc(t.cut(v.cut))}</small>` : ''}`;
}

const numberFormat = (lang: Lang, digits: number) => new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The money a message moves, as sent (a refund's value is the amount refunded), with its currency; empty when it moves none. */
function money(lang: Lang, m: Message): string {
  if (m.valueMinor === 0 && !m.currency) return '';
  const major = Math.abs(m.valueMinor) / 100;
  const amount = Number.isFinite(major) ? numberFormat(lang, 2).format(major) : '—';
  return `${esc(amount)}${m.currency ? ` ${esc(visible(m.currency, 12))}` : ''}`;
}

export type OutboxPageModel = {
  lang: Lang;
  formToken: string;
  view: OutboxView;
  /** Unix seconds: what is due. */
  now: number;
  /** The page follows a Try again. */
  tried: boolean;
};

const languages = (t: OutboxText) =>
  `<nav id="lang">${esc(t.language)}: ${LANGS.map((l) => `<a href="?lang=${l}" hreflang="${l}" id="lang-${l}">${l === 'ru' ? 'Русский' : 'English'}</a>`).join(' · ')}</nav>`;

const doc = (lang: Lang, body: string) => htmlDocument({ lang, title: OUTBOX_TEXT[lang].title, body, css: CSS });

export function outboxPage(m: OutboxPageModel): string {
  const t = OUTBOX_TEXT[m.lang];
  const on = new Set(m.view.senders.map((s) => s.name));
  return doc(
    m.lang,
    `<div class="outbox">
<form method="post" action="${SETUP_PATH}/sign-out" id="signed-in"><button type="submit" id="sign-out">${esc(t.signOut)}</button></form>
${languages(t)}<nav id="pages"><a href="${SETUP_PATH}" id="to-setup">${esc(t.setup)}</a> · <strong>${esc(t.heading)}</strong></nav>
<h1>${esc(t.heading)}</h1>
<p class="note">${esc(t.intro)}</p>
${m.tried ? `<p class="tried" id="tried" role="status">${esc(t.tried)}</p>` : ''}
${sendersSection(t, m.view)}
${countsSection(t, m)}
${pendingSection(t, m)}
${failedSection(t, m, on)}
${tooOldSection(t, m)}
</div>`,
  );
}

function sendersSection(t: OutboxText, view: OutboxView): string {
  const head = `<section class="card" id="senders"><h2>${esc(t.senders.heading)}</h2>`;
  if (!view.senders.length) return `${head}<p class="note" id="no-senders">${esc(t.senders.none)}</p></section>`;
  const limit = (seconds: number) => (Number.isFinite(seconds) && seconds > 0 && seconds < 100 * 365 * 86_400 ? t.senders.limit(Math.round(seconds / 3600)) : t.senders.noLimit);
  const item = (s: OutboxView['senders'][number]) =>
    `<li data-sender="${esc(s.name)}">${esc(t.senders.on(visible(s.name, NAME_SHOWN), visible(s.vendor, NAME_SHOWN), limit(s.maxAgeSeconds)))}</li>`;
  return `${head}<ul id="senders-list">${view.senders.map(item).join('')}</ul></section>`;
}

function countsSection(t: OutboxText, m: OutboxPageModel): string {
  const { view } = m;
  const on = view.senders.map((s) => s.name);
  // The senders on first, in their order; then those whose messages remain, by name.
  const names = [...on, ...Object.keys(view.counts).filter((n) => !on.includes(n)).sort()];
  const count = numberFormat(m.lang, 0);
  const row = (name: string) => {
    const c = view.counts[name];
    const off = on.includes(name) ? '' : `<br><small>${esc(t.counts.off)}</small>`;
    return `<tr data-sender="${esc(name)}"><th scope="row">${outside(t, name, NAME_SHOWN)}${off}</th>${STATES.map((s) => `<td class="num" data-state="${s}">${count.format(c?.[s] ?? 0)}</td>`).join('')}</tr>`;
  };
  const table = names.length
    ? `<div class="scroll"><table id="counts-table"><thead><tr><th>${esc(t.counts.sender)}</th>${STATES.map((s) => `<th class="num">${esc(t.counts.states[s])}</th>`).join('')}</tr></thead>
<tbody>${names.map(row).join('\n')}</tbody></table></div>`
    : `<p class="note" id="no-messages">${esc(t.counts.none)}</p>`;
  const sweep = view.sweep
    ? `${esc(t.sweep.at(utc(view.sweep.at)))} ${Object.entries(view.sweep.looked)
        .map(([part, n]) => esc(t.sweep.looked(visible(part, NAME_SHOWN), count.format(n))))
        .join('; ')}`
    : esc(view.senders.length ? t.sweep.notYet : t.sweep.off);
  return `<section class="card" id="counts"><h2>${esc(t.counts.heading)}</h2>
${table}
<p class="note" id="sweep">${sweep}</p></section>`;
}

/** The cells every list starts with: sender, subject, event, value. */
function messageCells(t: OutboxText, lang: Lang, m: Message): string {
  return `<td class="sender">${outside(t, m.sender, NAME_SHOWN)}</td><td class="subject">${outside(t, m.subject, NAME_SHOWN)}</td><td class="event">${outside(t, m.event, NAME_SHOWN)}</td><td class="num value">${money(lang, m)}</td>`;
}
const head = (t: OutboxText, extra: string[]) => {
  const c = t.columns;
  const numeric = new Set([c.value, c.attempts]);
  return `<thead><tr>${[c.sender, c.subject, c.event, c.value, ...extra].map((h) => `<th${numeric.has(h) ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead>`;
};
const rowStart = (m: Message) => `<tr data-id="${esc(m.id.toWellFormed())}" data-sender="${esc(m.sender.toWellFormed())}" data-step="${m.step}">`;

function listSection(id: string, heading: string, intro: string, empty: string, list: Message[], table: () => string): string {
  return `<section class="card" id="${id}"><h2>${esc(heading)}</h2><p class="note">${esc(intro)}</p>
${list.length ? `<div class="scroll">${table()}</div>` : `<p class="empty">${esc(empty)}</p>`}</section>`;
}

function pendingSection(t: OutboxText, m: OutboxPageModel): string {
  const c = t.columns;
  const row = (x: Message) =>
    `${rowStart(x)}${messageCells(t, m.lang, x)}<td class="when">${utc(x.createdAt)}</td><td class="num attempts">${x.attempts}</td><td class="when next">${utc(x.nextAt)}${
      x.nextAt <= m.now ? `<br><small>${esc(t.due)}</small>` : ''
    }</td><td class="answer">${x.answer ? outside(t, x.answer, ANSWER_SHOWN) : `<small>${esc(t.notTried)}</small>`}</td></tr>`;
  return listSection('pending', t.pending.heading, t.pending.intro, t.pending.empty, m.view.pending, () =>
    `<table id="pending-table">${head(t, [c.created, c.attempts, c.nextTry, c.lastAnswer])}<tbody>${m.view.pending.map(row).join('\n')}</tbody></table>`,
  );
}

function failedSection(t: OutboxText, m: OutboxPageModel, on: Set<string>): string {
  const c = t.columns;
  const action = (x: Message) =>
    on.has(x.sender)
      ? `<form method="post" action="${TRY_AGAIN_PATH}"><input type="hidden" name="${FORM_TOKEN_FIELD}" value="${esc(m.formToken)}"><input type="hidden" name="${MESSAGE_FIELD}" value="${messageKey(x)}"><button type="submit" class="try-again">${esc(t.failed.tryAgain)}</button></form>`
      : `<small>${esc(t.failed.senderOff)}</small>`;
  const row = (x: Message) =>
    `${rowStart(x)}${messageCells(t, m.lang, x)}<td class="num attempts">${x.attempts}</td><td class="when">${utc(writtenAt(x))}</td><td class="answer">${outside(t, x.answer, ANSWER_SHOWN)}</td><td>${action(x)}</td></tr>`;
  return listSection('failed', t.failed.heading, t.failed.intro, t.failed.empty, m.view.failed, () =>
    `<table id="failed-table">${head(t, [c.attempts, c.answered, c.answer, ''])}<tbody>${m.view.failed.map(row).join('\n')}</tbody></table>`,
  );
}

function tooOldSection(t: OutboxText, m: OutboxPageModel): string {
  const c = t.columns;
  const row = (x: Message) => `${rowStart(x)}${messageCells(t, m.lang, x)}<td class="when">${utc(x.eventAt)}</td><td class="answer">${outside(t, x.answer, ANSWER_SHOWN)}</td></tr>`;
  return listSection('too-old', t.tooOld.heading, t.tooOld.intro, t.tooOld.empty, m.view.tooOld, () =>
    `<table id="too-old-table">${head(t, [c.eventAt, c.why])}<tbody>${m.view.tooOld.map(row).join('\n')}</tbody></table>`,
  );
}

/** Why a Try again did nothing: a message not failed or superseded, an unknown one, a sender off, a foreign form. */
export type Refusal = NotTried | { why: 'sender_off'; sender: string } | { why: 'foreign' };

export function notTriedPage(lang: Lang, r: Refusal): string {
  const t = OUTBOX_TEXT[lang];
  const p = t.notTriedPage;
  const reason =
    r.why === 'unknown'
      ? p.unknown
      : r.why === 'not_failed'
        ? r.state === 'failed'
          ? p.unknown
          : p.state[r.state]
        : r.why === 'superseded'
          ? p.superseded(r.step)
          : r.why === 'sender_off'
            ? p.senderOff(visible(r.sender, NAME_SHOWN))
            : p.foreign;
  return doc(lang, `<h1>${esc(p.heading)}</h1>\n<p class="problem" id="problem" data-why="${r.why}">${esc(reason)}</p>\n<p><a href="${OUTBOX_PATH}" id="back">${esc(p.back)}</a></p>`);
}

/** The outbox could not be read (ClickHouse down). */
export function unavailablePage(lang: Lang): string {
  const t = OUTBOX_TEXT[lang];
  return doc(lang, `<h1>${esc(t.unavailable.heading)}</h1>\n<p class="problem" id="problem">${esc(t.unavailable.body)}</p>\n<p><a href="${OUTBOX_PATH}">${esc(t.heading)}</a></p>`);
}
