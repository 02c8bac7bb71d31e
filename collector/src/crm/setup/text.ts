// Every word the CRM setup page shows, in English and Russian. One type for
// both, so a string added to one language and forgotten in the other does not
// compile. The configuration's own messages (the schema's, naming a path such
// as `funnel.1`) stay as the admin API gives them.
import type { Marker } from '../config/schema.js';
import type { Lang } from '../../web/lang.js';
import type { ListOrigin } from './statuses.js';
import type { WebhookKind } from './webhooks.js';

type Kind = 'amocrm' | 'zoho' | 'import';

export type SetupText = {
  title: string;
  heading: string;
  intro: string;
  language: string;
  signIn: { heading: string; label: string; button: string; wrong: string };
  signOut: string;
  /** The link to the outbox page (outbound/page/). */
  outbox: string;
  disabled: { heading: string; body: string };
  /** The form came without this session's form token: not from this page, or from a page of an earlier session. */
  foreignForm: string;
  saved: string;
  refused: string;
  webhooks: { heading: string; intro: string; labels: Record<WebhookKind, string> };
  funnel: {
    heading: string;
    intro: string;
    order: string;
    stage: string;
    marker: string;
    remove: string;
    noMarker: string;
    markers: Record<Marker, string>;
    /** A status's choice of the stage an empty funnel row will add. */
    newStage: (row: number) => string;
  };
  kinds: Record<Kind, string>;
  lists: {
    fromApi: Record<'amocrm' | 'zoho', string>;
    noApi: string;
    apiFailed: (reason: string) => string;
    imported: string;
    empty: string;
  };
  pipeline: (name: string, id: string) => string;
  everyPipeline: string;
  leads: string;
  columns: { status: string; id: string; from: string; seen: string; stage: string };
  origins: Record<ListOrigin, string>;
  closes: Record<'won' | 'lost', string>;
  noStage: string;
  fields: {
    heading: string;
    keep: string;
    filters: string;
    field: string;
    equals: string;
    calculated: string;
    name: string;
    formula: string;
    variables: string;
    formulaHelp: string;
  };
  save: string;
  deliveries: {
    heading: string;
    intro: string;
    none: string;
    unknown: string;
    columns: { at: string; source: string; door: string; stored: string; repeated: string; filtered: string; ignored: string; refused: string; unusable: string };
    mapIt: string;
    records: (n: number) => string;
  };
};

const en: SetupText = {
  title: 'Throughline — CRM setup',
  heading: 'CRM setup',
  intro:
    'Put each CRM status into a funnel stage, edit the funnel and what is kept of each deal, and save. A save is checked exactly as PUT /crm/config checks a configuration, and is in force at once. Secrets and API credentials are not shown here and stay as they are.',
  language: 'Language',
  signIn: { heading: 'CRM setup', label: 'CRM admin token', button: 'Sign in', wrong: 'That is not the CRM admin token.' },
  signOut: 'Sign out',
  outbox: 'Outbox: what is sent back to GA4 and the others',
  disabled: {
    heading: 'The CRM setup page is off',
    body: "It opens with the CRM admin token. Set CRM_ADMIN_TOKEN in the collector's environment (at least 16 random characters), restart the collector, then open this page again and sign in with that token.",
  },
  foreignForm: 'This form did not come from this page in your current session, so it was not saved. Open the page again and save from there.',
  saved: 'Saved: the new configuration is in force.',
  refused: 'Not saved: the configuration in force stays as it was. What to fix:',
  webhooks: {
    heading: 'Addresses to paste into the CRM',
    intro: 'Built from the address this page was opened at. Each holds the source’s secret: anyone who has it can send deals.',
    labels: {
      amocrm: 'amoCRM webhook (Settings → Integrations → Webhooks)',
      zohoDeals: 'Zoho workflow webhook for Deals',
      zohoLeads: 'Zoho workflow webhook for Leads',
      zohoNotify: 'Zoho Notifications API notify URL',
      importJson: 'Import, JSON {"deals": […]}',
      importCsv: 'Import, CSV with a header row',
    },
  },
  funnel: {
    heading: 'Funnel',
    intro: 'Throughline’s stages, in order. Fill an empty row to add a stage; tick “remove” to take one out. Each marker may be on one stage.',
    order: 'Order',
    stage: 'Stage',
    marker: 'Marker',
    remove: 'Remove',
    noMarker: '—',
    markers: { won: 'won: the sale, its amount is revenue', lost: 'lost', returned: 'returned: the sale undone', paused: 'paused' },
    newStage: (row) => `the new stage of funnel row ${row}`,
  },
  kinds: { amocrm: 'amoCRM', zoho: 'Zoho CRM', import: 'import' },
  lists: {
    fromApi: { amocrm: 'Pipelines and statuses read from amoCRM’s API just now.', zoho: 'Stages and lead statuses read from Zoho’s field lists (API) just now.' },
    noApi: 'This source has no API access: listed are the statuses seen in its deliveries and those in the configuration.',
    apiFailed: (reason) => `The CRM’s API could not be read (${reason}). Listed instead: the statuses seen in deliveries and those in the configuration.`,
    imported: 'Listed are the statuses seen in this source’s deliveries and those in the configuration.',
    empty: 'No statuses known yet: they are listed here once a delivery brings them.',
  },
  pipeline: (name, id) => (name ? `Pipeline “${name}” (${id})` : `Pipeline ${id}`),
  everyPipeline: 'Every pipeline not listed (*)',
  leads: 'Leads (Lead_Status)',
  columns: { status: 'Status', id: 'Id', from: 'Listed from', seen: 'Records seen', stage: 'Funnel stage' },
  origins: { api: 'API', deliveries: 'deliveries', configuration: 'configuration' },
  closes: { won: 'won in the CRM: unmapped, it lands on the won stage', lost: 'lost in the CRM: unmapped, it lands on the lost stage' },
  noStage: '— no stage —',
  fields: {
    heading: 'What is kept of a deal',
    keep: 'Custom fields to keep (name, id or code; one per line; empty keeps them all)',
    filters: 'Filters: a deal is taken only when every field equals its value (empty the field to remove a filter)',
    field: 'Field',
    equals: 'Equals',
    calculated: 'Calculated fields (empty the name and formula to remove one)',
    name: 'Name',
    formula: 'Formula',
    variables: 'Variables, one per line: variable = CRM field',
    formulaHelp: '“amount” is the deal amount. Allowed: numbers, + - * / ^ %, brackets, min, max, abs, round, floor, ceil.',
  },
  save: 'Save',
  deliveries: {
    heading: 'Last deliveries',
    intro: 'Newest first, as GET /crm/status lists them. A status that maps to no stage is listed above with its source: pick its stage there.',
    none: 'No deliveries yet.',
    unknown: 'Redis did not answer: the last deliveries and the statuses seen in them cannot be shown now.',
    columns: { at: 'When (UTC)', source: 'Source', door: 'Door', stored: 'Stored', repeated: 'Repeated', filtered: 'Filtered', ignored: 'Ignored', refused: 'Refused', unusable: 'Not usable' },
    mapIt: 'map it',
    records: (n) => `${n} record${n === 1 ? '' : 's'}`,
  },
};

const ru: SetupText = {
  title: 'Throughline — настройка CRM',
  heading: 'Настройка CRM',
  intro:
    'Распределите статусы CRM по этапам воронки, поправьте воронку и то, что сохраняется из сделки, и сохраните. Сохранение проверяется так же, как PUT /crm/config, и действует сразу. Секреты и доступы к API здесь не показываются и остаются прежними.',
  language: 'Язык',
  signIn: { heading: 'Настройка CRM', label: 'Токен администратора CRM', button: 'Войти', wrong: 'Это не токен администратора CRM.' },
  signOut: 'Выйти',
  outbox: 'Исходящие: что отправляется в GA4 и другие системы',
  disabled: {
    heading: 'Страница настройки CRM выключена',
    body: 'Она открывается токеном администратора CRM. Задайте CRM_ADMIN_TOKEN в окружении коллектора (не меньше 16 случайных символов), перезапустите коллектор, откройте эту страницу снова и войдите с этим токеном.',
  },
  foreignForm: 'Эта форма пришла не с этой страницы вашего текущего сеанса, поэтому не сохранена. Откройте страницу заново и сохраните оттуда.',
  saved: 'Сохранено: новая настройка действует.',
  refused: 'Не сохранено: действующая настройка осталась прежней. Что исправить:',
  webhooks: {
    heading: 'Адреса для CRM',
    intro: 'Составлены из адреса, по которому открыта эта страница. В каждом — секрет источника: кто его знает, может присылать сделки.',
    labels: {
      amocrm: 'Вебхук amoCRM (Настройки → Интеграции → Вебхуки)',
      zohoDeals: 'Вебхук правила Zoho для сделок (Deals)',
      zohoLeads: 'Вебхук правила Zoho для лидов (Leads)',
      zohoNotify: 'Адрес уведомлений Zoho Notifications API',
      importJson: 'Импорт, JSON {"deals": […]}',
      importCsv: 'Импорт, CSV со строкой заголовков',
    },
  },
  funnel: {
    heading: 'Воронка',
    intro: 'Этапы Throughline по порядку. Чтобы добавить этап, заполните пустую строку; чтобы убрать — отметьте «убрать». Каждая метка — не больше чем на одном этапе.',
    order: 'Порядок',
    stage: 'Этап',
    marker: 'Метка',
    remove: 'Убрать',
    noMarker: '—',
    markers: { won: 'won: продажа, сумма — выручка', lost: 'lost: отказ', returned: 'returned: возврат продажи', paused: 'paused: отложено' },
    newStage: (row) => `новый этап из строки ${row} воронки`,
  },
  kinds: { amocrm: 'amoCRM', zoho: 'Zoho CRM', import: 'импорт' },
  lists: {
    fromApi: { amocrm: 'Воронки и статусы прочитаны из API amoCRM только что.', zoho: 'Стадии и статусы лидов прочитаны из списков полей Zoho (API) только что.' },
    noApi: 'У источника нет доступа к API: показаны статусы из его поставок и из настройки.',
    apiFailed: (reason) => `API CRM прочитать не удалось (${reason}). Вместо этого показаны статусы из поставок и из настройки.`,
    imported: 'Показаны статусы из поставок этого источника и из настройки.',
    empty: 'Статусы пока неизвестны: они появятся здесь, когда их принесёт поставка.',
  },
  pipeline: (name, id) => (name ? `Воронка «${name}» (${id})` : `Воронка ${id}`),
  everyPipeline: 'Все воронки, не указанные отдельно (*)',
  leads: 'Лиды (Lead_Status)',
  columns: { status: 'Статус', id: 'Id', from: 'Откуда', seen: 'Записей пришло', stage: 'Этап воронки' },
  origins: { api: 'API', deliveries: 'поставки', configuration: 'настройка' },
  closes: { won: 'успех в CRM: без сопоставления попадёт на этап won', lost: 'отказ в CRM: без сопоставления попадёт на этап lost' },
  noStage: '— без этапа —',
  fields: {
    heading: 'Что сохраняется из сделки',
    keep: 'Дополнительные поля, которые сохранять (имя, id или код; по одному в строке; пусто — все)',
    filters: 'Фильтры: сделка берётся, только если каждое поле равно значению (очистите поле, чтобы убрать фильтр)',
    field: 'Поле',
    equals: 'Равно',
    calculated: 'Вычисляемые поля (очистите имя и формулу, чтобы убрать)',
    name: 'Имя',
    formula: 'Формула',
    variables: 'Переменные, по одной в строке: переменная = поле CRM',
    formulaHelp: '«amount» — сумма сделки. Можно: числа, + - * / ^ %, скобки, min, max, abs, round, floor, ceil.',
  },
  save: 'Сохранить',
  deliveries: {
    heading: 'Последние поставки',
    intro: 'Сначала новые, как в GET /crm/status. Статус без этапа показан выше у своего источника: выберите этап там.',
    none: 'Поставок ещё не было.',
    unknown: 'Redis не ответил: последние поставки и статусы из них сейчас не показать.',
    columns: { at: 'Когда (UTC)', source: 'Источник', door: 'Вход', stored: 'Сохранено', repeated: 'Повторы', filtered: 'Отфильтровано', ignored: 'Пропущено', refused: 'Отклонено', unusable: 'Не годятся' },
    mapIt: 'сопоставить',
    records: (n) => `записей: ${n}`,
  },
};

export const TEXT: Record<Lang, SetupText> = { en, ru };
