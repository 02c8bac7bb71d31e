// @vitest-environment jsdom
// The outbox page's pure parts: the page rendered from a view of the outbox (the
// senders, counts, sweep and the three lists, in English and Russian), hostile
// text from vendors and CRMs shown visibly and never as markup, the empty
// states, the Try again form's message key (any characters there and back;
// anything else no message), the refusal pages, and when a state was written.
import { describe, expect, it } from 'vitest';
import { writtenAt, type Message } from '../../collector/src/outbound/outbox.js';
import { OUTBOX_PATH, TRY_AGAIN_PATH } from '../../collector/src/outbound/page/path.js';
import { messageKey, messageOfKey, notTriedPage, outboxPage, unavailablePage, type OutboxPageModel } from '../../collector/src/outbound/page/render.js';
import type { OutboxView } from '../../collector/src/outbound/page/view.js';
import { shown, visible } from '../../collector/src/outbound/page/visible.js';
import type { Lang } from '../../collector/src/web/lang.js';

const NOW = Date.parse('2026-03-02T10:41:00Z') / 1000;
const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`) / 1000;

const message = (over: Partial<Message>): Message => {
  const m: Message = {
    sender: 'ga4',
    id: '',
    subject: 'amo:10701093',
    step: 1,
    basis: 7,
    event: 'purchase',
    reference: 'amo:10701093',
    recipient: '908899769.1600020018',
    valueMinor: 249990,
    currency: 'RUB',
    body: '{}',
    eventAt: at('2026-03-02 10:39:12'),
    createdAt: at('2026-03-02 10:39:13'),
    state: 'pending',
    attempts: 0,
    nextAt: at('2026-03-02 10:39:13'),
    answer: '',
    revision: 0,
    ...over,
  };
  return { ...m, id: m.id || `${m.sender}:${m.subject}#${m.step}` };
};

const VIEW: OutboxView = {
  senders: [
    { name: 'ga4', vendor: 'GA4', maxAgeSeconds: 72 * 3600 },
    { name: 'metrika', vendor: 'Yandex Metrika', maxAgeSeconds: 21 * 86_400 },
    { name: 'webhook', vendor: 'webhook', maxAgeSeconds: Infinity },
  ],
  counts: { ga4: { pending: 2, sent: 18_200, failed: 1, too_old: 3 }, amocrm_move: { pending: 0, sent: 4, failed: 0, too_old: 0 } },
  sweep: { at: at('2026-03-02 10:41:07'), looked: { ga4: 57, trigger: 0 } },
  pending: [
    message({ subject: 'amo:10701093', step: 2, attempts: 2, nextAt: at('2026-03-02 10:41:20'), answer: 'HTTP 503: backend error', valueMinor: 50000 }),
    message({ sender: 'amocrm_move', subject: 'amo:5', event: 'move', valueMinor: 0, currency: '', nextAt: at('2026-03-02 10:40:00') }),
  ],
  failed: [message({ subject: 'shop:F-1', state: 'failed', attempts: 1, answer: 'HTTP 400: {"error":"invalid client_id"}', revision: at('2026-03-02 10:40:01') * 1_000_000 + 512 })],
  tooOld: [
    message({ subject: 'shop:O-1', event: 'refund', valueMinor: -70000, state: 'too_old', eventAt: at('2026-02-26 09:00:00'), answer: 'not sent: the change of 2026-02-26 09:00:00 UTC is older than the 72 hours GA4 accepts' }),
  ],
};

const EMPTY: OutboxView = { senders: [], counts: {}, sweep: null, pending: [], failed: [], tooOld: [] };

const render = (over: Partial<OutboxPageModel> = {}) => new DOMParser().parseFromString(outboxPage({ lang: 'en', formToken: 'form-token-1', view: VIEW, now: NOW, tried: false, ...over }), 'text/html');
const text = (doc: Document, selector: string) => doc.querySelector(selector)?.textContent ?? null;
/** Each row of a table, its cells' text. */
const cells = (doc: Document, table: string) => [...doc.querySelectorAll(`#${table} tbody tr`)].map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c as HTMLElement).textContent!.trim()));

describe('the outbox page', () => {
  it('shows the senders on with their time limits, the counts by state of every sender, and the last sweep', () => {
    const doc = render();
    expect(doc.documentElement.lang).toBe('en');
    expect(text(doc, 'h1')).toBe('Outbox');
    expect([...doc.querySelectorAll('#senders-list li')].map((li) => li.textContent)).toEqual([
      'ga4 (GA4): changes older than 72 hours are not sent',
      'metrika (Yandex Metrika): changes older than 21 days are not sent',
      'webhook (webhook): no time limit',
    ]);
    // The senders on first, zeros included; then a sender whose messages remain, marked as not on.
    expect(cells(doc, 'counts-table')).toEqual([
      ['ga4', '2', '18,200', '1', '3'],
      ['metrika', '0', '0', '0', '0'],
      ['webhook', '0', '0', '0', '0'],
      ['amocrm_movenot on in this collector', '0', '4', '0', '0'],
    ]);
    expect(text(doc, '#sweep')).toBe('Last sweep (every minute, the stored deals planned again): 2026-03-02 10:41:07 UTC. ga4: 57 looked at; trigger: 0 looked at');
    expect(doc.querySelector('#pages a#to-setup')?.getAttribute('href')).toBe('/crm/setup');
    expect(doc.querySelector('#signed-in')?.getAttribute('action')).toBe('/crm/setup/sign-out');
    expect(doc.querySelector('#tried')).toBeNull();
  });

  it('lists the pending messages with attempts, next try and last answer; the failed with the answer, when, and Try again; the too old with why', () => {
    const doc = render();
    expect(cells(doc, 'pending-table')).toEqual([
      ['ga4', 'amo:10701093', 'purchase', '500.00 RUB', '2026-03-02 10:39:13', '2', '2026-03-02 10:41:20', 'HTTP 503: backend error'],
      // A message that moves no money shows none; one past its next try is due; one never tried says so.
      ['amocrm_move', 'amo:5', 'move', '', '2026-03-02 10:39:13', '0', '2026-03-02 10:40:00due now', 'not tried yet'],
    ]);
    expect(doc.querySelector('#pending-table tbody tr')?.getAttribute('data-id')).toBe('ga4:amo:10701093#2');
    expect(cells(doc, 'failed-table')).toEqual([['ga4', 'shop:F-1', 'purchase', '2,499.90 RUB', '1', '2026-03-02 10:40:01', 'HTTP 400: {"error":"invalid client_id"}', 'Try again']]);
    // A refund's value is shown as sent: the amount refunded.
    expect(cells(doc, 'too-old-table')).toEqual([
      ['ga4', 'shop:O-1', 'refund', '700.00 RUB', '2026-02-26 09:00:00', 'not sent: the change of 2026-02-26 09:00:00 UTC is older than the 72 hours GA4 accepts'],
    ]);
    expect(text(doc, '#failed .note')).toContain('A 4xx usually needs a configuration fix first');
    expect(text(doc, '#failed .note')).toContain('a sent one never is');
  });

  it('posts Try again with the session’s form token and the message’s key', () => {
    const form = render().querySelector('#failed-table form') as HTMLFormElement;
    expect(form.getAttribute('method')).toBe('post');
    expect(form.getAttribute('action')).toBe(TRY_AGAIN_PATH);
    const fields = Object.fromEntries([...form.querySelectorAll('input')].map((i) => [i.name, i.value]));
    expect(Object.keys(fields)).toEqual(['form_token', 'message']);
    expect(fields.form_token).toBe('form-token-1');
    expect(messageOfKey(fields.message!)).toEqual({ sender: 'ga4', subject: 'shop:F-1', step: 1 });
  });

  it('offers no Try again for a failed message whose sender is not on', () => {
    const doc = render({ view: { ...VIEW, failed: [message({ sender: 'metrika_cdp', state: 'failed', answer: 'HTTP 403: forbidden' })] } });
    expect(doc.querySelector('#failed-table form')).toBeNull();
    expect(cells(doc, 'failed-table')[0]!.at(-1)).toBe('its sender is not on');
  });

  it('shows a vendor’s answer and a CRM’s ids as text: markup escaped, control and invisible characters visible, long answers cut', () => {
    const answer = `HTTP 400: <img src=x onerror="alert(1)"><script>alert(2)</script>\u0007\u001b[31m\r\n\u202egpj.exe\u200b\u0000${'x'.repeat(400)}`;
    const hostile = message({
      sender: '<b>ga4</b>',
      subject: 'shop:\u202eF-1\ud800"\'',
      event: 'purchase\n',
      currency: '<i>R</i>',
      state: 'failed',
      attempts: 1,
      answer,
    });
    const doc = render({ view: { ...EMPTY, senders: VIEW.senders, failed: [hostile], counts: { '<b>ga4</b>': { pending: 0, sent: 0, failed: 1, too_old: 0 } } } });
    expect(doc.querySelectorAll('img, script, b, i').length).toBe(0);
    const row = cells(doc, 'failed-table')[0]!;
    expect(row.slice(0, 4)).toEqual(['<b>ga4</b>', 'shop:\\u202EF-1\\uD800"\'', 'purchase\\n', '2,499.90 <i>R</i>']);
    // Each escape marked apart from the text, so it is told from a backslash the text holds.
    expect([...doc.querySelectorAll('#failed-table td.subject .esc')].map((e) => e.textContent)).toEqual(['\\u202E', '\\uD800']);
    const answerCell = doc.querySelector('#failed-table td.answer')!;
    const start = 'HTTP 400: <img src=x onerror="alert(1)"><script>alert(2)</script>\u0007\u001b[31m\r\n\u202egpj.exe\u200b\u0000';
    const xs = 300 - [...start].length;
    const shownStart = 'HTTP 400: <img src=x onerror="alert(1)"><script>alert(2)</script>\\u0007\\u001B[31m\\r\\n\\u202Egpj.exe\\u200B\\u0000';
    expect(answerCell.textContent).toBe(`${shownStart}${'x'.repeat(xs)}…${400 - xs} more characters not shown`);
    expect([...answerCell.querySelectorAll('.esc')].map((e) => e.textContent)).toEqual(['\\u0007', '\\u001B', '\\r', '\\n', '\\u202E', '\\u200B', '\\u0000']);
    expect(text(doc, '#failed-table td.answer small.cut')).toBe(`${400 - xs} more characters not shown`);
    // The sender off: no Try again for it, and its name in the counts is as harmless.
    expect(cells(doc, 'counts-table').at(-1)![0]).toBe('<b>ga4</b>not on in this collector');
  });

  it('says what an empty outbox means, and how to turn a sender on when none is', () => {
    const doc = render({ view: EMPTY });
    expect(text(doc, '#no-senders')).toContain('No sender is on in this collector, so it sends nothing');
    expect(text(doc, '#no-senders')).toContain('the outbound side is off here (OUTBOUND=off)');
    expect(text(doc, '#no-messages')).toBe('No message has been written yet.');
    expect(text(doc, '#sweep')).toBe('No sweeps: no sender is on.');
    expect(text(doc, '#pending .empty')).toBe('Nothing waits: every message written has been sent or settled.');
    expect(text(doc, '#failed .empty')).toBe('Nothing was refused.');
    expect(text(doc, '#too-old .empty')).toBe('No message came too late.');
    expect(doc.querySelectorAll('table').length).toBe(0);

    const on = render({ view: { ...EMPTY, senders: VIEW.senders.slice(0, 1) } });
    expect(on.querySelector('#no-senders')).toBeNull();
    expect(text(on, '#sweep')).toBe('No sweep has finished since the collector started.');
    expect(cells(on, 'counts-table')).toEqual([['ga4', '0', '0', '0', '0']]);
  });

  it('after a Try again, says the message waits to be sent', () => {
    expect(text(render({ tried: true }), '#tried')).toBe('Tried again: the message waits to be sent and goes out within moments. Reload the page to see what became of it.');
  });

  it('speaks Russian: words, plurals, numbers', () => {
    const doc = render({ lang: 'ru', view: { ...VIEW, senders: [...VIEW.senders, { name: 'short', vendor: 'X', maxAgeSeconds: 21 * 3600 }, { name: 'one', vendor: 'Y', maxAgeSeconds: 3600 }] } });
    expect(doc.documentElement.lang).toBe('ru');
    expect(text(doc, 'h1')).toBe('Исходящие');
    expect(doc.title).toBe('Throughline — исходящие');
    expect([...doc.querySelectorAll('#senders-list li')].map((li) => li.textContent)).toEqual([
      'ga4 (GA4): изменения старше 72 часов не отправляются',
      'metrika (Yandex Metrika): изменения старше 21 дня не отправляются',
      'webhook (webhook): без ограничения по времени',
      'short (X): изменения старше 21 часа не отправляются',
      'one (Y): изменения старше 1 часа не отправляются',
    ]);
    expect([...doc.querySelectorAll('#counts-table thead th')].map((th) => th.textContent)).toEqual(['Отправитель', 'Ждут', 'Отправлены', 'Отклонены', 'Устарели']);
    expect(cells(doc, 'counts-table')[0]).toEqual(['ga4', '2', '18\u00a0200', '1', '3']);
    expect(cells(doc, 'failed-table')[0]!.slice(3)).toEqual(['2\u00a0499,90 RUB', '1', '2026-03-02 10:40:01', 'HTTP 400: {"error":"invalid client_id"}', 'Повторить']);
    expect(text(doc, '#failed .note')).toContain('Ответ 4xx обычно значит, что сначала надо исправить настройку');
    expect(text(render({ lang: 'ru', view: EMPTY }), '#pending .empty')).toBe('Ничего не ждёт: все записанные сообщения отправлены или завершены.');
    expect(text(render({ lang: 'ru', view: EMPTY }), '#no-senders')).toContain('GA4_MEASUREMENT_ID и GA4_API_SECRET');
  });

  it('shows absurd amounts and times without failing', () => {
    const doc = render({ view: { ...EMPTY, senders: VIEW.senders, pending: [message({ valueMinor: 9.2e18, nextAt: NaN, createdAt: 1e15 })] } });
    expect(cells(doc, 'pending-table')[0]!.slice(3, 7)).toEqual(['92,000,000,000,000,000.00 RUB', '—', '0', '—']);
    const nan = render({ view: { ...EMPTY, pending: [message({ valueMinor: NaN })] } });
    expect(cells(nan, 'pending-table')[0]![3]).toBe('— RUB');
  });
});

describe('the Try again form’s message key', () => {
  it('carries any sender, subject and step there and back (a form would turn a newline into CRLF)', () => {
    const m = { sender: 'ga4', subject: 'shop:A\r\n\tB "x" <y> ü 😀', step: 4_294_967_295 };
    expect(messageOfKey(messageKey(m))).toEqual(m);
    expect(messageKey(m)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('is no message for anything else', () => {
    const key = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      null,
      '',
      'not base64!',
      'A'.repeat(5000),
      Buffer.from('not json').toString('base64url'),
      key({ sender: 'ga4', subject: 's', step: 1 }),
      key(['ga4', 's']),
      key(['ga4', 's', 1, 2]),
      key([1, 's', 1]),
      key(['ga4', null, 1]),
      key(['ga4', 's', '1']),
      key(['ga4', 's', 1.5]),
      key(['ga4', 's', -1]),
      key(['ga4', 's', 2 ** 32]),
      key(['ga4', 's', 1e308]),
    ]) {
      expect(messageOfKey(bad as string | null), String(bad)).toBeNull();
    }
  });
});

describe('the pages of a Try again that did nothing', () => {
  const reason = (lang: Lang, r: Parameters<typeof notTriedPage>[1]) => {
    const doc = new DOMParser().parseFromString(notTriedPage(lang, r), 'text/html');
    expect(doc.querySelector('#back')?.getAttribute('href')).toBe(OUTBOX_PATH);
    return [doc.querySelector('#problem')!.getAttribute('data-why'), doc.querySelector('#problem')!.textContent];
  };

  it('say why, in either language', () => {
    expect(reason('en', { why: 'not_failed', state: 'sent' })).toEqual(['not_failed', 'It was sent: sending it again would make the vendor count it twice.']);
    expect(reason('en', { why: 'not_failed', state: 'pending' })).toEqual(['not_failed', 'It is pending already: it waits to be sent.']);
    expect(reason('en', { why: 'not_failed', state: 'too_old' })).toEqual(['not_failed', 'It is too old: the vendor would not take it.']);
    expect(reason('en', { why: 'superseded', step: 2 })[1]).toMatch(/^A later message of the same subject \(step 2\) was planned after it failed/);
    expect(reason('en', { why: 'unknown' })).toEqual(['unknown', 'There is no such message in the outbox.']);
    expect(reason('en', { why: 'sender_off', sender: 'metrika\u0000<b>' })).toEqual(['sender_off', 'Its sender “metrika\\u0000<b>” is not on in this collector, so nothing would send it. Turn the sender on first.']);
    expect(reason('en', { why: 'foreign' })[1]).toMatch(/^This Try again did not come from the outbox page in your current session/);
    expect(reason('ru', { why: 'not_failed', state: 'sent' })[1]).toBe('Оно отправлено: повторная отправка заставила бы сервис посчитать его дважды.');
    expect(reason('ru', { why: 'superseded', step: 3 })[1]).toMatch(/\(шаг 3\)/);
  });

  it('say when the outbox cannot be read', () => {
    const doc = new DOMParser().parseFromString(unavailablePage('ru'), 'text/html');
    expect(doc.querySelector('h1')?.textContent).toBe('Исходящие сейчас не прочитать');
  });
});

describe('visible text', () => {
  it('shows controls, invisible and reordering characters and lone surrogates as their escapes, marked apart', () => {
    expect(visible('a\u0000b\u0009c\u000ad\re\u001bf\u007fg')).toBe('a\\u0000b\\tc\\nd\\re\\u001Bf\\u007Fg');
    expect(visible('\u0085\u00ad\u061c\u200b\u200e\u2028\u202e\u2066\ufeff')).toBe('\\u0085\\u00AD\\u061C\\u200B\\u200E\\u2028\\u202E\\u2066\\uFEFF');
    expect(visible('x\udc00y\ud83d')).toBe('x\\uDC00y\\uD83D');
    expect(visible('Привет, 😀 ü \\n')).toBe('Привет, 😀 ü \\n');
    expect(shown('a\\nb\nc', 10).pieces).toEqual([
      { text: 'a\\nb', escaped: false },
      { text: '\\n', escaped: true },
      { text: 'c', escaped: false },
    ]);
  });

  it('cuts by characters, never inside a pair', () => {
    expect(visible('😀😀😀', 2)).toBe('😀😀…');
    expect(shown('😀😀😀', 2).cut).toBe(1);
    expect(shown('a\u202eb', 2)).toEqual({ pieces: [{ text: 'a', escaped: false }, { text: '\\u202E', escaped: true }], cut: 1 });
    expect(visible('abc', 3)).toBe('abc');
  });
});

describe('when a message’s state was written', () => {
  it('is its revision’s microsecond, or its creation for the first row', () => {
    expect(writtenAt({ revision: 1_772_448_001_000_512, createdAt: 5 })).toBe(1_772_448_001);
    expect(writtenAt({ revision: 0, createdAt: 5 })).toBe(5);
  });
});
