// Everything the report pages say, in each language they speak. One object per
// language, both of the type Words: a string missing from one of them fails the
// typecheck. Figures come in already written (views/figures.ts); the words only
// place them in a sentence.
import { MODELS, type ModelName } from '../attribution/models.js';
import type { ResolutionStatus } from '../attribution/resolver.js';
import type { Channel } from '../channels/classify.js';
import type { Lang } from '../web/lang.js';
import type { Preset } from './period.js';
import type { Group } from './queries.js';

export type View = 'overview' | 'funnel' | 'models';

/** What went wrong on the page's face, each with its status: what happened and what to do. */
export type ProblemKind = 'bad_option' | 'disabled' | 'failed';
type Problem = { title: string; what: (detail: string) => string; whatToDo: string; again: string };

/** The money columns take the report currency's code: "Revenue, RUB". */
type MoneyHead = (currency: string) => string;

export type Words = {
  /** The locale figures and dates are written in (Intl). */
  locale: string;
  /** This language's name, in itself, for the switch. */
  name: string;
  product: string;
  heading: string;
  language: string;
  signIn: { title: string; intro: string; token: string; button: string; wrong: string };
  signOut: string;
  views: Record<View, string>;
  pickers: { period: string; model: string; from: string; to: string; rows: string; show: string; allKeys: string; csv: string };
  presets: Record<Preset, string>;
  /** A row of each grouping, as a column head and a picker's option. */
  groups: Record<Group, string>;
  /** The period in words when an end is open: "any time", "since …", "until …". */
  open: { any: string; since: (day: string) => string; until: (day: string) => string };
  summary: (model: string, period: string, windowDays: number) => string;
  resolution: (r: ResolutionStatus) => string;
  columns: {
    visits: string;
    visitors: string;
    leads: string;
    deals: string;
    won: string;
    revenue: MoneyHead;
    cost: MoneyHead;
    cpl: MoneyHead;
    cpo: MoneyHead;
    roi: string;
    conversion: string;
    avgDeal: MoneyHead;
    unconverted: string;
  };
  /** Money without a rate, one currency: its code, and its revenue and cost as plain amounts (views/figures.ts amount). */
  unconverted: (currency: string, revenue: string, cost: string) => string;
  channels: Record<Channel, string>;
  keys: { total: string; unattributed: string; direct: string; notSet: string };
  models: Record<ModelName, { label: string; about: string }>;
  overview: {
    kpis: { revenue: string; cost: string; roi: string; leads: string; won: string; visits: string };
    against: (period: string) => string;
    noPrevious: string;
    /** A change from zero: no percentage to give. */
    fresh: string;
    /** No change at all (a tile). */
    same: string;
    chart: string;
    revenue: string;
    cost: string;
    axis: (currency: string) => string;
    nothingToDraw: string;
    table: string;
    compare: (period: string) => string;
    compareMonths: string;
  };
  funnel: {
    title: (of: string) => string;
    stage: string;
    passed: string;
    refused: string;
    fromPrevious: string;
    fromFirst: string;
    passedOf: (passed: string, share: string) => string;
    refusedCount: (n: string) => string;
    noDeals: string;
  };
  modelsView: { title: string; intro: string; won: (n: string) => string };
  hints: {
    tracker: { title: string; text: string; site: string };
    crm: { title: string; text: string; setup: string; readme: string };
    costs: { title: string; text: string; readme: string };
    period: { title: string; text: (period: string) => string };
    stages: { title: string; text: string; setup: string };
    sample: { title: string; text: string };
  };
  problems: Record<ProblemKind, Problem>;
};

/** How long ago, in a few words. */
function ago(seconds: number, units: [string, string, string, string]): string {
  if (seconds < 120) return `${seconds} ${units[0]}`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} ${units[1]}`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} ${units[2]}`;
  return `${Math.round(seconds / 86_400)} ${units[3]}`;
}

const utc = (iso: string) => iso.replace('T', ' ').replace('Z', ' UTC');

const en: Words = {
  locale: 'en-US',
  name: 'English',
  product: 'Throughline reports',
  heading: 'Which channel brought the money',
  language: 'Language',
  signIn: {
    title: 'Sign in to the reports',
    intro: "Enter the reports token: the collector's REPORTS_TOKEN.",
    token: 'Reports token',
    button: 'Sign in',
    wrong: 'That is not the reports token.',
  },
  signOut: 'Sign out',
  views: { overview: 'Overview', funnel: 'Funnel', models: 'Models compared' },
  pickers: { period: 'Period', model: 'Model', from: 'From', to: 'To', rows: 'Rows', show: 'Show', allKeys: 'All together', csv: 'Download CSV' },
  presets: { '7d': '7 days', '30d': '30 days', '90d': '90 days', month: 'This month', all: 'All time' },
  groups: { channel: 'Channel', source: 'Source', campaign: 'Campaign', month: 'Month' },
  open: { any: 'any time', since: (d) => `since ${d}`, until: (d) => `until ${d}` },
  summary: (model, period, windowDays) => `${model}, deals created ${period}, look-back ${windowDays} days.`,
  resolution(r) {
    const when = `Identities resolved ${utc(r.finishedAt)} (${ago(r.ageSeconds, ['s', 'min', 'h', 'days'])} ago)`;
    const waited = r.waitedMs > 0 ? `, for this report (${(r.waitedMs / 1000).toFixed(1)} s)` : '';
    if (r.current) return `${when}${waited}: the figures include every hit, deal and link stored.${r.refreshing ? ' A refresh is running.' : ''}`;
    return r.refreshing
      ? `${when}: hits, deals or links arrived since and a refresh is running; ask again shortly for figures that include them.`
      : `${when}: hits, deals or links arrived since; a later report will include them.`;
  },
  columns: {
    visits: 'Visits',
    visitors: 'Visitors',
    leads: 'Leads',
    deals: 'Deals',
    won: 'Won',
    revenue: (c) => `Revenue, ${c}`,
    cost: (c) => `Cost, ${c}`,
    cpl: (c) => `Cost per lead, ${c}`,
    cpo: (c) => `Cost per sale, ${c}`,
    roi: 'ROI',
    conversion: 'Lead → sale',
    avgDeal: (c) => `Average sale, ${c}`,
    unconverted: 'Without a rate (not in the figures)',
  },
  unconverted: (c, revenue, cost) => `${c} revenue ${revenue} cost ${cost}`,
  channels: {
    paid_search: 'Paid search',
    paid_social: 'Paid social',
    display: 'Display ads',
    organic_search: 'Organic search',
    social: 'Social networks',
    email: 'Email',
    affiliate: 'Affiliates',
    referral: 'Referring sites',
    other_campaign: 'Other campaigns',
    direct: 'Direct',
  },
  keys: { total: 'Total', unattributed: 'No visit found (unattributed)', direct: 'Direct (no source)', notSet: '(not set)' },
  models: {
    first_click: { label: MODELS.first_click.label, about: 'All the money to the visit that first brought the person.' },
    last_click: { label: MODELS.last_click.label, about: 'All the money to the last visit before the deal, direct ones included.' },
    last_non_direct: { label: MODELS.last_non_direct.label, about: 'All the money to the last visit that came from a source; direct visits are passed over.' },
    linear: { label: MODELS.linear.label, about: 'The money split equally among all visits within the look-back window.' },
    position_based: { label: MODELS.position_based.label, about: '40% to the first visit, 40% to the last, 20% shared by those between.' },
    time_decay: { label: MODELS.time_decay.label, about: 'Every visit credited, a visit a week before the deal half as much as one on its day.' },
  },
  overview: {
    kpis: { revenue: 'Revenue', cost: 'Cost', roi: 'ROI', leads: 'Leads', won: 'Won deals', visits: 'Visits' },
    against: (p) => `Changes against the previous period, ${p}.`,
    noPrevious: 'Pick a period with a start and an end to see it against the period before.',
    fresh: 'new',
    same: 'no change',
    chart: 'Revenue and cost',
    revenue: 'Revenue',
    cost: 'Cost',
    axis: (c) => `Revenue and cost, ${c}`,
    nothingToDraw: 'No revenue or cost in this period.',
    table: 'Figures',
    compare: (p) => `Against the previous period, ${p}`,
    compareMonths: 'Months are compared in total only.',
  },
  funnel: {
    title: (of) => `Funnel: ${of}`,
    stage: 'Stage',
    passed: 'Passed',
    refused: 'Refused here',
    fromPrevious: 'From the previous stage',
    fromFirst: 'From the first stage',
    passedOf: (passed, share) => `${passed} passed · ${share}`,
    refusedCount: (n) => `${n} refused`,
    noDeals: 'No deals passed the funnel in this period for this choice.',
  },
  modelsView: {
    title: 'Revenue credited by each model',
    intro:
      'The same won deals, credited by each of the six models. A channel that gains under first click opens the way to sales; one that gains under last click closes them.',
    won: (n) => `${n} won`,
  },
  hints: {
    tracker: {
      title: 'No visits yet',
      text: 'Paste this line into the <head> of every page of your site. Visits appear here within seconds.',
      site: 'Put your site\'s id in data-site (one of SITES, when it is set).',
    },
    crm: {
      title: 'Visits, but no deals yet',
      text: 'Connect your CRM so that deals and their money reach the report.',
      setup: 'Set up a CRM',
      readme: 'The README, “Connecting a CRM”, tells each step.',
    },
    costs: {
      title: 'No costs uploaded',
      text: 'Upload your ad costs (CSV or JSON, per day, source and campaign) to see cost, cost per lead and sale, and ROI:',
      readme: 'The README, “Costs”, lists the columns.',
    },
    period: {
      title: 'Nothing in this period',
      text: (p) => `No visits, deals or costs fall into ${p}. Widen the period:`,
    },
    stages: {
      title: 'No funnel yet',
      text: 'The funnel stages come from the CRM configuration: describe your funnel and map the CRM statuses onto it.',
      setup: 'Set up a CRM',
    },
    sample: {
      title: 'Sample data is shown',
      text: 'These figures include the demo’s sample: four months of a made-up studio’s visits, deals and costs. npm run demo:clear-sample removes exactly it; your own visits and deals stay.',
    },
  },
  problems: {
    bad_option: {
      title: 'This report cannot be made',
      what: (d) => `The page's address asks for something the report does not know: ${d}.`,
      whatToDo: 'Open the report without those settings, then pick the model, the period and the rows in the form.',
      again: 'Open the report',
    },
    disabled: {
      title: 'Reports are turned off',
      what: () => 'This collector has no reports token, so it shows no reports.',
      whatToDo: 'Set REPORTS_TOKEN in the collector\'s environment and restart it; then sign in here with that token.',
      again: 'Try again',
    },
    failed: {
      title: 'The report failed',
      what: () => 'The database did not give the figures for this report.',
      whatToDo: 'Try again in a minute. If it keeps failing, the collector\'s log says why (“report failed”).',
      again: 'Try again',
    },
  },
};

const ru: Words = {
  locale: 'ru-RU',
  name: 'Русский',
  product: 'Отчёты Throughline',
  heading: 'Какой канал принёс деньги',
  language: 'Язык',
  signIn: {
    title: 'Вход в отчёты',
    intro: 'Введите токен отчётов — значение REPORTS_TOKEN коллектора.',
    token: 'Токен отчётов',
    button: 'Войти',
    wrong: 'Это не токен отчётов.',
  },
  signOut: 'Выйти',
  views: { overview: 'Сводка', funnel: 'Воронка', models: 'Сравнение моделей' },
  pickers: { period: 'Период', model: 'Модель', from: 'С', to: 'По', rows: 'Строки', show: 'Показать', allKeys: 'Все вместе', csv: 'Скачать CSV' },
  presets: { '7d': '7 дней', '30d': '30 дней', '90d': '90 дней', month: 'Этот месяц', all: 'Всё время' },
  groups: { channel: 'Канал', source: 'Источник', campaign: 'Кампания', month: 'Месяц' },
  open: { any: 'за всё время', since: (d) => `с ${d}`, until: (d) => `по ${d}` },
  summary: (model, period, windowDays) => `${model}; сделки, созданные ${period}; окно атрибуции ${windowDays} дн.`,
  resolution(r) {
    const when = `Посетители сопоставлены ${utc(r.finishedAt)} (${ago(r.ageSeconds, ['с', 'мин', 'ч', 'дн.'])} назад)`;
    const waited = r.waitedMs > 0 ? `, для этого отчёта (${(r.waitedMs / 1000).toFixed(1).replace('.', ',')} с)` : '';
    if (r.current) return `${when}${waited}: в цифрах все сохранённые визиты, сделки и связи.${r.refreshing ? ' Идёт обновление.' : ''}`;
    return r.refreshing
      ? `${when}: с тех пор пришли новые визиты, сделки или связи, идёт обновление; откройте отчёт чуть позже, чтобы увидеть их.`
      : `${when}: с тех пор пришли новые визиты, сделки или связи; следующий отчёт их учтёт.`;
  },
  columns: {
    visits: 'Визиты',
    visitors: 'Посетители',
    leads: 'Заявки',
    deals: 'Сделки',
    won: 'Продажи',
    revenue: (c) => `Выручка, ${c}`,
    cost: (c) => `Расходы, ${c}`,
    cpl: (c) => `Цена заявки, ${c}`,
    cpo: (c) => `Цена продажи, ${c}`,
    roi: 'ROI',
    conversion: 'Заявка → продажа',
    avgDeal: (c) => `Средний чек, ${c}`,
    unconverted: 'Без курса (не вошло в цифры)',
  },
  unconverted: (c, revenue, cost) => `${c}: выручка ${revenue}, расходы ${cost}`,
  channels: {
    paid_search: 'Контекстная реклама',
    paid_social: 'Таргетированная реклама',
    display: 'Медийная реклама',
    organic_search: 'Поисковые системы',
    social: 'Социальные сети',
    email: 'Email',
    affiliate: 'Партнёры',
    referral: 'Переходы с сайтов',
    other_campaign: 'Другие кампании',
    direct: 'Прямые заходы',
  },
  keys: { total: 'Итого', unattributed: 'Визит не найден (без атрибуции)', direct: 'Прямые заходы (без источника)', notSet: '(не указан)' },
  models: {
    first_click: { label: 'Первый клик', about: 'Все деньги — визиту, который впервые привёл человека.' },
    last_click: { label: 'Последний клик', about: 'Все деньги — последнему визиту перед сделкой, включая прямые заходы.' },
    last_non_direct: { label: 'Последний значимый клик', about: 'Все деньги — последнему визиту из источника; прямые заходы пропускаются.' },
    linear: { label: 'Линейная', about: 'Деньги поровну между всеми визитами в окне атрибуции.' },
    position_based: { label: 'С учётом позиции (40/20/40)', about: '40% первому визиту, 40% последнему, 20% поровну между остальными.' },
    time_decay: { label: 'С угасанием (полураспад 7 дней)', about: 'Засчитывается каждый визит; визит за неделю до сделки весит вдвое меньше визита в её день.' },
  },
  overview: {
    kpis: { revenue: 'Выручка', cost: 'Расходы', roi: 'ROI', leads: 'Заявки', won: 'Продажи', visits: 'Визиты' },
    // A Russian period ends in «г.»: no second full stop after it.
    against: (p) => `Изменения к предыдущему периоду: ${p}`,
    noPrevious: 'Выберите период с началом и концом, чтобы сравнить его с предыдущим.',
    fresh: 'новое',
    same: 'без изменений',
    chart: 'Выручка и расходы',
    revenue: 'Выручка',
    cost: 'Расходы',
    axis: (c) => `Выручка и расходы, ${c}`,
    nothingToDraw: 'В этом периоде нет ни выручки, ни расходов.',
    table: 'Цифры',
    compare: (p) => `К предыдущему периоду: ${p}`,
    compareMonths: 'Месяцы сравниваются только в итоге.',
  },
  funnel: {
    title: (of) => `Воронка: ${of}`,
    stage: 'Этап',
    passed: 'Прошли',
    refused: 'Отказались здесь',
    fromPrevious: 'От предыдущего этапа',
    fromFirst: 'От первого этапа',
    passedOf: (passed, share) => `прошли ${passed} · ${share}`,
    refusedCount: (n) => `отказов: ${n}`,
    noDeals: 'В этом периоде по этому выбору сделки воронку не проходили.',
  },
  modelsView: {
    title: 'Выручка по каждой модели',
    intro:
      'Одни и те же выигранные сделки, распределённые каждой из шести моделей. Канал, который выигрывает в модели первого клика, открывает путь к продаже; тот, что выигрывает в модели последнего клика, закрывает её.',
    won: (n) => `продаж: ${n}`,
  },
  hints: {
    tracker: {
      title: 'Визитов пока нет',
      text: 'Вставьте эту строку в <head> каждой страницы сайта. Визиты появятся здесь через несколько секунд.',
      site: 'В data-site укажите идентификатор сайта (один из SITES, если он задан).',
    },
    crm: {
      title: 'Визиты есть, сделок пока нет',
      text: 'Подключите CRM, чтобы сделки и их деньги попали в отчёт.',
      setup: 'Подключить CRM',
      readme: 'Все шаги описаны в README, раздел «Connecting a CRM».',
    },
    costs: {
      title: 'Расходы не загружены',
      text: 'Загрузите расходы на рекламу (CSV или JSON, по дням, источникам и кампаниям), чтобы увидеть расходы, цену заявки и продажи и ROI:',
      readme: 'Столбцы перечислены в README, раздел «Costs».',
    },
    period: {
      title: 'В этом периоде ничего нет',
      text: (p) => `Ни визитов, ни сделок, ни расходов за ${p} — расширьте период:`,
    },
    stages: {
      title: 'Воронки пока нет',
      text: 'Этапы воронки задаются в настройке CRM: опишите воронку и разложите по ней статусы CRM.',
      setup: 'Подключить CRM',
    },
    sample: {
      title: 'Показаны учебные данные',
      text: 'В цифрах есть учебные данные демо: четыре месяца визитов, сделок и расходов выдуманной студии. Команда npm run demo:clear-sample удаляет ровно их; ваши визиты и сделки остаются.',
    },
  },
  problems: {
    bad_option: {
      title: 'Такой отчёт составить нельзя',
      what: (d) => `В адресе страницы параметр, которого отчёт не понимает: ${d}.`,
      whatToDo: 'Откройте отчёт без этих параметров и выберите модель, период и строки в форме.',
      again: 'Открыть отчёт',
    },
    disabled: {
      title: 'Отчёты выключены',
      what: () => 'У этого коллектора не задан токен отчётов, поэтому отчётов он не показывает.',
      whatToDo: 'Задайте REPORTS_TOKEN в окружении коллектора и перезапустите его; затем войдите здесь с этим токеном.',
      again: 'Попробовать снова',
    },
    failed: {
      title: 'Отчёт не получился',
      what: () => 'База данных не отдала цифры для этого отчёта.',
      whatToDo: 'Попробуйте через минуту. Если не получается и дальше, причина — в журнале коллектора («report failed»).',
      again: 'Попробовать снова',
    },
  },
};

export const WORDS: Record<Lang, Words> = { en, ru };
