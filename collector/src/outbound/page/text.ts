// Every word the outbox page shows, in English and Russian. One type for both,
// so a string added to one language and forgotten in the other does not
// compile. What came from elsewhere (a vendor's answer, a deal's id, a sender's
// name) is shown as it is, made visible (visible.ts), never translated.
import type { Lang } from '../../web/lang.js';
import type { State } from '../outbox.js';

/** The states a message is refused a retry in, each with its reason. */
type Settled = Exclude<State, 'failed'>;

export type OutboxText = {
  title: string;
  heading: string;
  intro: string;
  language: string;
  signOut: string;
  /** The link back to the CRM setup page. */
  setup: string;
  senders: {
    heading: string;
    /** A sender on, with its vendor and the oldest change it sends. */
    on: (name: string, vendor: string, limit: string) => string;
    limit: (hours: number) => string;
    noLimit: string;
    /** No sender is on: how to turn one on. */
    none: string;
  };
  counts: {
    heading: string;
    sender: string;
    states: Record<State, string>;
    /** A sender with messages in the outbox that is not on in this collector. */
    off: string;
    none: string;
  };
  sweep: {
    at: (at: string) => string;
    looked: (part: string, n: string) => string;
    notYet: string;
    off: string;
  };
  columns: {
    sender: string;
    subject: string;
    event: string;
    value: string;
    attempts: string;
    created: string;
    nextTry: string;
    lastAnswer: string;
    answer: string;
    answered: string;
    eventAt: string;
    why: string;
  };
  /** A pending message whose next try is now or past. */
  due: string;
  /** A pending message not tried yet. */
  notTried: string;
  pending: { heading: string; intro: string; empty: string };
  failed: { heading: string; intro: string; empty: string; tryAgain: string; senderOff: string };
  tooOld: { heading: string; intro: string; empty: string };
  /** Below a cut text: how much was left off. */
  cut: (n: number) => string;
  /** After a Try again. */
  tried: string;
  notTriedPage: {
    heading: string;
    unknown: string;
    state: Record<Settled, string>;
    superseded: (step: number) => string;
    senderOff: (sender: string) => string;
    foreign: string;
    back: string;
  };
  unavailable: { heading: string; body: string };
};

const en: OutboxText = {
  title: 'Throughline — outbox',
  heading: 'Outbox',
  intro:
    'Every message Throughline sends to another system (GA4, Yandex Metrika, amoCRM, webhooks) is written here before it is sent. A message waits (pending) until the vendor takes it (sent) or refuses it (failed), or until it is older than the vendor accepts (too old). Times are UTC.',
  language: 'Language',
  signOut: 'Sign out',
  setup: 'CRM setup',
  senders: {
    heading: 'Senders on',
    on: (name, vendor, limit) => `${name} (${vendor}): ${limit}`,
    limit: (hours) => (hours % 24 === 0 && hours >= 96 ? `changes older than ${hours / 24} days are not sent` : `changes older than ${hours} hour${hours === 1 ? '' : 's'} are not sent`),
    noLimit: 'no time limit',
    none:
      'No sender is on in this collector, so it sends nothing: the outbound side is off here (OUTBOUND=off), and another collector of the installation sends. To send from this one, set OUTBOUND=on (the default) and restart it; GA4 and Metrika also need their variables (GA4_MEASUREMENT_ID and GA4_API_SECRET; METRIKA_COUNTER_ID and METRIKA_TOKEN): README, “Sending outcomes back”.',
  },
  counts: {
    heading: 'Messages by state',
    sender: 'Sender',
    states: { pending: 'Pending', sent: 'Sent', failed: 'Failed', too_old: 'Too old' },
    off: 'not on in this collector',
    none: 'No message has been written yet.',
  },
  sweep: {
    at: (at) => `Last sweep (every minute, the stored deals planned again): ${at} UTC.`,
    looked: (part, n) => `${part}: ${n} looked at`,
    notYet: 'No sweep has finished since the collector started.',
    off: 'No sweeps: no sender is on.',
  },
  columns: {
    sender: 'Sender',
    subject: 'Subject (deal)',
    event: 'Event',
    value: 'Value',
    attempts: 'Attempts',
    created: 'Written (UTC)',
    nextTry: 'Next try (UTC)',
    lastAnswer: 'Last answer',
    answer: 'The vendor’s answer',
    answered: 'Answered (UTC)',
    eventAt: 'Change (UTC)',
    why: 'Why',
  },
  due: 'due now',
  notTried: 'not tried yet',
  pending: {
    heading: 'Pending',
    intro: 'Waiting to be sent, or to be tried again after a 5xx, 408, 429, a network error or no answer (with growing waits, up to 15 minutes). The newest 100.',
    empty: 'Nothing waits: every message written has been sent or settled.',
  },
  failed: {
    heading: 'Failed',
    intro:
      'Refused by the vendor (a 4xx answer): not tried again by themselves. A 4xx usually needs a configuration fix first (a wrong address, id or secret, a proxy on the way): Try again sends the same message, and without the fix it is refused again. Only a failed message can be tried again: a sent one never is, as the vendor would count it twice. The newest 100.',
    empty: 'Nothing was refused.',
    tryAgain: 'Try again',
    senderOff: 'its sender is not on',
  },
  tooOld: {
    heading: 'Too old',
    intro: 'Never sent: the change they report is older than the vendor accepts. The newest 100.',
    empty: 'No message came too late.',
  },
  cut: (n) => `${n} more character${n === 1 ? '' : 's'} not shown`,
  tried: 'Tried again: the message waits to be sent and goes out within moments. Reload the page to see what became of it.',
  notTriedPage: {
    heading: 'Not tried again',
    unknown: 'There is no such message in the outbox.',
    state: {
      pending: 'It is pending already: it waits to be sent.',
      sent: 'It was sent: sending it again would make the vendor count it twice.',
      too_old: 'It is too old: the vendor would not take it.',
    },
    superseded: (step) =>
      `A later message of the same subject (step ${step}) was planned after it failed and already carries its change: sending this one too would count it twice. The subject’s next change is planned anew.`,
    senderOff: (sender) => `Its sender “${sender}” is not on in this collector, so nothing would send it. Turn the sender on first.`,
    foreign: 'This Try again did not come from the outbox page in your current session, so nothing was done. Open the page again and try from there.',
    back: 'Back to the outbox',
  },
  unavailable: { heading: 'The outbox cannot be read now', body: 'ClickHouse did not answer. Nothing is lost: reload the page in a moment.' },
};

/** Russian plurals: one, few (2–4), many. */
const plural = (n: number, one: string, few: string, many: string) => {
  const d = n % 10;
  const dd = n % 100;
  if (d === 1 && dd !== 11) return one;
  if (d >= 2 && d <= 4 && (dd < 12 || dd > 14)) return few;
  return many;
};

const ru: OutboxText = {
  title: 'Throughline — исходящие',
  heading: 'Исходящие',
  intro:
    'Каждое сообщение, которое Throughline отправляет в другую систему (GA4, Яндекс Метрику, amoCRM, вебхуки), записывается сюда до отправки. Сообщение ждёт (pending), пока сервис его не примет (sent) или не отклонит (failed), либо пока оно не станет старше, чем сервис принимает (too old). Время — UTC.',
  language: 'Язык',
  signOut: 'Выйти',
  setup: 'Настройка CRM',
  senders: {
    heading: 'Включённые отправители',
    on: (name, vendor, limit) => `${name} (${vendor}): ${limit}`,
    limit: (hours) =>
      hours % 24 === 0 && hours >= 96
        ? `изменения старше ${hours / 24} ${plural(hours / 24, 'дня', 'дней', 'дней')} не отправляются`
        : `изменения старше ${hours} ${plural(hours, 'часа', 'часов', 'часов')} не отправляются`,
    noLimit: 'без ограничения по времени',
    none:
      'В этом коллекторе не включён ни один отправитель, и он ничего не отправляет: отправка здесь выключена (OUTBOUND=off), отправляет другой коллектор установки. Чтобы отправлять из этого, задайте OUTBOUND=on (по умолчанию) и перезапустите его; GA4 и Метрике нужны ещё их переменные (GA4_MEASUREMENT_ID и GA4_API_SECRET; METRIKA_COUNTER_ID и METRIKA_TOKEN): README, «Sending outcomes back».',
  },
  counts: {
    heading: 'Сообщения по состояниям',
    sender: 'Отправитель',
    states: { pending: 'Ждут', sent: 'Отправлены', failed: 'Отклонены', too_old: 'Устарели' },
    off: 'не включён в этом коллекторе',
    none: 'Сообщений ещё не было.',
  },
  sweep: {
    at: (at) => `Последний обход (раз в минуту сохранённые сделки планируются заново): ${at} UTC.`,
    looked: (part, n) => `${part}: просмотрено ${n}`,
    notYet: 'С запуска коллектора ещё ни один обход не завершился.',
    off: 'Обходов нет: ни один отправитель не включён.',
  },
  columns: {
    sender: 'Отправитель',
    subject: 'Предмет (сделка)',
    event: 'Событие',
    value: 'Сумма',
    attempts: 'Попыток',
    created: 'Записано (UTC)',
    nextTry: 'Следующая попытка (UTC)',
    lastAnswer: 'Последний ответ',
    answer: 'Ответ сервиса',
    answered: 'Когда ответил (UTC)',
    eventAt: 'Изменение (UTC)',
    why: 'Почему',
  },
  due: 'пора отправлять',
  notTried: 'ещё не отправлялось',
  pending: {
    heading: 'Ждут отправки',
    intro: 'Ждут отправки или повтора после ответа 5xx, 408, 429, сетевой ошибки или молчания (паузы растут, до 15 минут). Последние 100.',
    empty: 'Ничего не ждёт: все записанные сообщения отправлены или завершены.',
  },
  failed: {
    heading: 'Отклонены',
    intro:
      'Сервис отклонил их (ответ 4xx): сами они не повторяются. Ответ 4xx обычно значит, что сначала надо исправить настройку (неверный адрес, идентификатор или секрет, прокси по пути): «Повторить» отправляет то же сообщение, и без исправления оно будет отклонено снова. Повторить можно только отклонённое сообщение: отправленное — никогда, сервис посчитал бы его дважды. Последние 100.',
    empty: 'Ничего не отклонено.',
    tryAgain: 'Повторить',
    senderOff: 'отправитель не включён',
  },
  tooOld: {
    heading: 'Устарели',
    intro: 'Не отправлены: изменение, о котором они сообщают, старше, чем сервис принимает. Последние 100.',
    empty: 'Устаревших сообщений нет.',
  },
  cut: (n) => `не показано ещё ${n} ${plural(n, 'символ', 'символа', 'символов')}`,
  tried: 'Повторено: сообщение ждёт отправки и уйдёт в ближайшие секунды. Обновите страницу, чтобы увидеть, что с ним стало.',
  notTriedPage: {
    heading: 'Не повторено',
    unknown: 'Такого сообщения в исходящих нет.',
    state: {
      pending: 'Оно уже ждёт отправки.',
      sent: 'Оно отправлено: повторная отправка заставила бы сервис посчитать его дважды.',
      too_old: 'Оно устарело: сервис его не примет.',
    },
    superseded: (step) =>
      `После его отклонения по тому же предмету запланировано следующее сообщение (шаг ${step}), и оно уже несёт это изменение: отправить ещё и это — значит посчитать дважды. Следующее изменение предмета будет запланировано заново.`,
    senderOff: (sender) => `Его отправитель «${sender}» не включён в этом коллекторе, и отправить его некому. Сначала включите отправителя.`,
    foreign: 'Эта команда «Повторить» пришла не со страницы исходящих вашего текущего сеанса, поэтому ничего не сделано. Откройте страницу заново и повторите оттуда.',
    back: 'К исходящим',
  },
  unavailable: { heading: 'Исходящие сейчас не прочитать', body: 'ClickHouse не ответил. Ничего не потеряно: обновите страницу через минуту.' },
};

export const OUTBOX_TEXT: Record<Lang, OutboxText> = { en, ru };
