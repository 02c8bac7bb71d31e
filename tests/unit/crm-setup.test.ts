// @vitest-environment jsdom
// The CRM setup page's pure parts: the form and the configuration both ways
// (the page's own form, posted as a browser posts it, gives back the very
// configuration it showed), the statuses listed per pipeline and where each is
// known from, the webhook addresses, the origin they are built on, the statuses
// a delivery records and the form token.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadCrmConfig, type CrmConfig } from '../../collector/src/crm/config/schema.js';
import { configOfForm, FIELD, formOfConfig, readForm } from '../../collector/src/crm/setup/form.js';
import { formToken, formTokenMatches } from '../../collector/src/crm/setup/form-token.js';
import { rowId, setupPage, type SourcePanel } from '../../collector/src/crm/setup/page.js';
import { statusGroups, type VendorLists } from '../../collector/src/crm/setup/statuses.js';
import { webhookUrls } from '../../collector/src/crm/setup/webhooks.js';
import { statusesOf } from '../../collector/src/crm/status/store.js';
import { forwarded } from '../../collector/src/http/forwarded.js';

const SECRET = 'amo_secret_0123456789abcdef';
const CONFIG: CrmConfig = loadCrmConfig({
  funnel: [{ stage: 'Request' }, { stage: 'Qualified' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
  sources: {
    amo: {
      kind: 'amocrm',
      secret: SECRET,
      account: { id: '17769199' },
      api: { baseUrl: 'https://apfitness.amocrm.ru', clientId: 'c', clientSecret: 'client-secret-value', redirectUri: 'https://x/crm/amocrm/amo/oauth', refreshToken: 'refresh-value' },
      pipelines: { '9217056': { '20067736': 'Request', '142': 'Won' }, '*': { '143': 'Lost' } },
      filters: [{ field: 'LANDING', equals: 'site-1' }],
      keepFields: ['Source', 'Product'],
      calculated: [{ name: 'margin', formula: 'amount - cost', variables: { cost: 'Себестоимость' } }],
    },
    zoho: {
      kind: 'zoho',
      secret: 'zoho_secret_0123456789ab',
      pipelines: { Standard: { Qualification: 'Qualified' } },
      leadStatuses: { Contacted: 'Request' },
    },
    shop: { kind: 'import', secret: 'shop_secret_0123456789ab', pipelines: { shop: { paid: 'Won' } } },
  },
}).raw;

const AMO_API: VendorLists = {
  pipelines: [
    {
      id: '9217056',
      name: 'Продажи',
      statuses: [
        { id: '20067736', name: 'Первичный контакт', closes: null },
        { id: '20067739', name: 'Переговоры', closes: null },
        { id: '142', name: 'Успешно реализовано', closes: 'won' },
        { id: '143', name: 'Закрыто и не реализовано', closes: 'lost' },
      ],
    },
  ],
};
const seen = (source: string, pipeline: string, status: string, n = 1) => ({ source, pipeline, status, seen: n, last_seen: '2026-03-01T00:00:00.000Z' });

function panels(config: CrmConfig): SourcePanel[] {
  return Object.entries(config.sources).map(([id, src]) => ({
    id,
    kind: src.kind,
    lists: { api: src.kind === 'amocrm', vendor: src.kind === 'amocrm' ? AMO_API : null, problem: null },
    groups: statusGroups(src, src.kind === 'amocrm' ? AMO_API : null, id === 'shop' ? [seen('shop', 'shop', 'refunded', 2)] : []),
    webhooks: webhookUrls('http://crm.test:8080', id, src),
  }));
}

/** The page's form as a browser posts it, after `edit` has changed its fields. */
function posted(config: CrmConfig, edit: (form: HTMLFormElement, doc: Document) => void = () => {}): URLSearchParams {
  const html = setupPage({ lang: 'en', formToken: 'tok', saved: false, problems: [], form: formOfConfig(config), panels: panels(config), deliveries: [] });
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const form = doc.getElementById('setup') as HTMLFormElement;
  edit(form, doc);
  return new URLSearchParams([...new FormData(form)].map(([k, v]) => [k, String(v)]));
}
const set = (form: HTMLFormElement, name: string, value: string) => {
  const el = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  if (!el) throw new Error(`no field ${name}`);
  el.value = value;
};
const statusSelect = (doc: Document, source: string, pipeline: string, status: string) =>
  doc.querySelector(`tr[data-source="${source}"][data-pipeline="${pipeline}"][data-status="${status}"] select`) as HTMLSelectElement;

describe('the setup form', () => {
  it('posted as the page shows it, gives back the configuration it showed, secrets and credentials untouched', () => {
    const pairs = posted(CONFIG);
    expect(pairs.get(FIELD.token)).toBe('tok');
    const made = configOfForm(CONFIG, readForm(pairs));
    expect(made.problems).toEqual([]);
    expect(made.value).toEqual(CONFIG);
    // Nothing secret is a field of the form.
    const values = [...pairs.values()].join('\n');
    for (const secret of [SECRET, 'client-secret-value', 'refresh-value', 'zoho_secret_0123456789ab', 'shop_secret_0123456789ab']) expect(values).not.toContain(secret);
  });

  it('maps statuses by stage row, so a stage renamed in the same save takes its statuses along; adds, reorders and removes stages', () => {
    const pairs = posted(CONFIG, (form, doc) => {
      set(form, FIELD.stage('0', 'name'), '1 Request');
      set(form, FIELD.stage('4', 'name'), 'Refund');
      set(form, FIELD.stage('4', 'marker'), 'returned');
      set(form, FIELD.stage('4', 'order'), '3');
      (form.elements.namedItem(FIELD.stage('3', 'remove')) as HTMLInputElement).checked = true;
      statusSelect(doc, 'amo', '*', '143').value = '';
      statusSelect(doc, 'amo', '9217056', '20067739').value = '1';
      statusSelect(doc, 'shop', 'shop', 'refunded').value = '4';
      statusSelect(doc, 'zoho', 'Leads', 'Contacted').value = '1';
    });
    const made = configOfForm(CONFIG, readForm(pairs));
    expect(made.problems).toEqual([]);
    expect(made.value.funnel).toEqual([{ stage: '1 Request' }, { stage: 'Qualified' }, { stage: 'Refund', marker: 'returned' }, { stage: 'Won', marker: 'won' }]);
    expect(made.value.sources.amo!.pipelines).toEqual({ '9217056': { '20067736': '1 Request', '20067739': 'Qualified', '142': 'Won' } });
    expect(made.value.sources.shop!.pipelines).toEqual({ shop: { paid: 'Won', refunded: 'Refund' } });
    expect((made.value.sources.zoho as { leadStatuses: unknown }).leadStatuses).toEqual({ Contacted: 'Qualified' });
    expect(loadCrmConfig(made.value).funnel.byMarker.get('returned')?.name).toBe('Refund');
  });

  it('reads kept fields, filters and calculated fields; an emptied row is removed', () => {
    const pairs = posted(CONFIG, (form) => {
      set(form, FIELD.keep('amo'), ' Source \n\nProduct\nSource\nUTM');
      set(form, FIELD.filter('amo', 0, 'field'), '');
      set(form, FIELD.filter('amo', 0, 'equals'), '');
      set(form, FIELD.filter('amo', 1, 'field'), 'City');
      set(form, FIELD.filter('amo', 1, 'equals'), 'Moscow');
      set(form, FIELD.calc('amo', 1, 'name'), 'markup');
      set(form, FIELD.calc('amo', 1, 'formula'), 'amount / cost');
      set(form, FIELD.calc('amo', 1, 'variables'), 'cost = Cost price\r\n');
    });
    const amo = configOfForm(CONFIG, readForm(pairs)).value.sources.amo!;
    expect(amo.keepFields).toEqual(['Source', 'Product', 'UTM']);
    expect(amo.filters).toEqual([{ field: 'City', equals: 'Moscow' }]);
    expect(amo.calculated).toEqual([
      { name: 'margin', formula: 'amount - cost', variables: { cost: 'Себестоимость' } },
      { name: 'markup', formula: 'amount / cost', variables: { cost: 'Cost price' } },
    ]);
  });

  it("names what is the form's own mistake; the rest is left to the configuration's check", () => {
    const pairs = posted(CONFIG, (form) => {
      set(form, FIELD.calc('amo', 1, 'name'), 'x');
      set(form, FIELD.calc('amo', 1, 'variables'), 'cost Cost price\na = A\na = B');
    });
    pairs.set(FIELD.stage('1', 'order'), 'second');
    pairs.append(FIELD.map(999, 'source'), 'amo');
    pairs.append(FIELD.map(999, 'pipeline'), '9217056');
    pairs.append(FIELD.map(999, 'status'), '20067742');
    pairs.append(FIELD.map(999, 'stage'), '77');
    pairs.append(FIELD.keep('nosuch'), '');
    pairs.append(FIELD.keep('__proto__'), '');
    expect(configOfForm(CONFIG, readForm(pairs)).problems).toEqual([
      'funnel: the order of stage "Qualified" is not a number',
      'sources.amo.calculated.1.variables: "cost Cost price" is not "variable = CRM field"',
      'sources.amo.calculated.1.variables: variable "a" is given twice',
      'sources.nosuch: no such source in the configuration in force',
      'sources.__proto__: no such source in the configuration in force',
      'sources.amo.pipelines.9217056.20067742: no stage row "77" on the form',
    ]);
  });

  it('keeps a status or pipeline named __proto__ as a key like any other', () => {
    const pairs = new URLSearchParams([
      [FIELD.stage('0', 'name'), 'Paid'],
      [FIELD.keep('shop'), ''],
      [FIELD.map(0, 'source'), 'shop'],
      [FIELD.map(0, 'pipeline'), '__proto__'],
      [FIELD.map(0, 'status'), '__proto__'],
      [FIELD.map(0, 'stage'), '0'],
    ]);
    const value = configOfForm(CONFIG, readForm(pairs)).value;
    expect(Object.hasOwn(value.sources.shop!.pipelines, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(value.sources.shop!.pipelines))).toEqual(JSON.parse('{"__proto__":{"__proto__":"Paid"}}'));
  });
});

describe('the statuses offered per source', () => {
  it('amoCRM: the API’s pipelines in its order, with names, then what the configuration and the deliveries add', () => {
    const groups = statusGroups(CONFIG.sources.amo!, AMO_API, [seen('amo', '9217056', '20067799', 3), seen('amo', '9217056', '20067736', 5)]);
    expect(groups.map((g) => [g.pipeline, g.name, g.rows.map((r) => [r.status, r.name, r.closes, r.seen, r.from.join('+')])])).toEqual([
      [
        '9217056',
        'Продажи',
        [
          ['20067736', 'Первичный контакт', null, 5, 'api+configuration+deliveries'],
          ['20067739', 'Переговоры', null, 0, 'api'],
          ['142', 'Успешно реализовано', 'won', 0, 'api+configuration'],
          ['143', 'Закрыто и не реализовано', 'lost', 0, 'api'],
          ['20067799', '', null, 3, 'deliveries'],
        ],
      ],
      ['*', '', [['143', '', 'lost', 0, 'configuration']]],
    ]);
  });

  it('Zoho: the Stage list under each pipeline named, Lead_Status under the leads, seen leads mapped as lead statuses', () => {
    const zoho: VendorLists = {
      everyPipeline: [
        { id: 'Qualification', name: 'Qualification', closes: null },
        { id: 'Closed Won', name: 'Closed Won', closes: 'won' },
      ],
      leadStatuses: [{ id: 'Not Contacted', name: 'Not Contacted', closes: null }],
    };
    const groups = statusGroups(CONFIG.sources.zoho!, zoho, [seen('zoho', 'Wholesale', 'Closed Won'), seen('zoho', 'Leads', 'Junk')]);
    expect(groups.map((g) => [g.target, g.pipeline, g.rows.map((r) => `${r.status}:${r.from.join('+')}`)])).toEqual([
      ['pipelines', 'Standard', ['Qualification:api+configuration', 'Closed Won:api']],
      ['pipelines', 'Wholesale', ['Qualification:api', 'Closed Won:api+deliveries']],
      ['leadStatuses', 'Leads', ['Not Contacted:api', 'Contacted:configuration', 'Junk:deliveries']],
    ]);
    // Without the API, a Zoho source lists the stages under `*` when no pipeline is named.
    const bare = loadCrmConfig({ sources: { z: { kind: 'zoho', secret: 'zoho_secret_0123456789ab' } } }).raw.sources.z!;
    expect(statusGroups(bare, zoho, []).map((g) => g.pipeline)).toEqual(['*', 'Leads']);
  });

  it('import: statuses seen in deliveries, an import without a pipeline under *', () => {
    const groups = statusGroups(CONFIG.sources.shop!, null, [seen('shop', '', 'new'), seen('shop', 'shop', 'refunded', 2)]);
    expect(groups.map((g) => [g.pipeline, g.rows.map((r) => [r.status, r.seen, r.from.join('+')])])).toEqual([
      ['shop', [['paid', 0, 'configuration'], ['refunded', 2, 'deliveries']]],
      ['*', [['new', 1, 'deliveries']]],
    ]);
  });

  it('links an unmapped status of a delivery to its row on the page', () => {
    const html = setupPage({
      lang: 'ru',
      formToken: '',
      saved: false,
      problems: [],
      form: formOfConfig(CONFIG),
      panels: panels(CONFIG),
      deliveries: [
        {
          at: '2026-03-01T10:00:00.000Z',
          source: 'shop',
          door: 'import',
          stored: 1,
          repeated: 0,
          filtered: 0,
          ignored: 0,
          refused_count: 0,
          unusable_count: 1,
          refused: [],
          unusable: [{ record: 'A-1', reason: 'unmapped_status', detail: 'status "refunded" …', pipeline: 'shop', status: 'refunded' }],
        },
      ],
    });
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const id = rowId('shop', { target: 'pipelines', pipeline: 'shop', status: 'refunded' });
    expect(doc.querySelector('#deliveries a.map-it')?.getAttribute('href')).toBe(`#${id}`);
    expect(doc.getElementById(id)?.getAttribute('data-status')).toBe('refunded');
    expect(doc.documentElement.lang).toBe('ru');
    expect(doc.querySelector('h1')?.textContent).toBe('Настройка CRM');
  });
});

describe('webhook addresses and the origin they are built on', () => {
  it('gives each kind of source its addresses', () => {
    expect(webhookUrls('http://crm.test:8080', 'amo', CONFIG.sources.amo!)).toEqual([{ kind: 'amocrm', url: `http://crm.test:8080/crm/amocrm/amo/${SECRET}` }]);
    expect(webhookUrls('https://c.example', 'zoho', CONFIG.sources.zoho!).map((w) => w.url)).toEqual([
      'https://c.example/crm/zoho/zoho/zoho_secret_0123456789ab',
      'https://c.example/crm/zoho/zoho/zoho_secret_0123456789ab/leads',
      'https://c.example/crm/zoho/zoho/notify',
    ]);
    expect(webhookUrls('', 'shop', CONFIG.sources.shop!).map((w) => w.url)).toEqual([
      'https://<collector>/crm/import/shop/shop_secret_0123456789ab/deals',
      'https://<collector>/crm/import/shop/shop_secret_0123456789ab/deals.csv',
    ]);
  });

  const req = (remote: string, headers: Record<string, string>) => ({ socket: { remoteAddress: remote }, headers }) as unknown as IncomingMessage;
  it('takes the host and port the browser used; the forwarded ones only from a trusted proxy', () => {
    const f = forwarded(['10.0.0.1']);
    expect(f.origin(req('127.0.0.1', { host: 'Crm.Test:8080' }))).toBe('http://crm.test:8080');
    expect(f.origin(req('127.0.0.1', { host: 'crm.test:80' }))).toBe('http://crm.test');
    expect(f.origin(req('127.0.0.1', { host: '[::1]:3000' }))).toBe('http://[::1]:3000');
    expect(f.origin(req('127.0.0.1', { host: 'crm.test', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }))).toBe('http://crm.test');
    expect(f.origin(req('10.0.0.1', { host: 'internal:8080', 'x-forwarded-host': 'crm.example:443', 'x-forwarded-proto': 'https' }))).toBe('https://crm.example');
    expect(f.origin(req('10.0.0.1', { host: 'internal:8080', 'x-forwarded-host': 'crm.example:8443', 'x-forwarded-proto': 'https' }))).toBe('https://crm.example:8443');
    expect(f.origin(req('127.0.0.1', { host: 'crm.test/"><script>' }))).toBe('');
    expect(f.origin(req('127.0.0.1', {}))).toBe('');
  });
});

describe('statuses a delivery records, and the form token', () => {
  it('counts each status a mapping could name; a change without a status, or one no mapping can hold, is not kept', () => {
    const d = (pipelineId: string, statusId: string) => ({ pipelineId, statusId });
    expect([...statusesOf([d('1', '10'), d('1', '10'), d('', 'paid'), d('1', ''), d('1', 'a\u0007'), d('x'.repeat(201), '10'), d('1', 's'.repeat(200))])]).toEqual([
      ['1\t10', 2],
      ['\tpaid', 1],
      [`1\t${'s'.repeat(200)}`, 1],
    ]);
  });

  it('is the session’s own: another session’s token, or none, does not match', () => {
    const withCookie = (v: string) => ({ headers: { cookie: `tl_lang=en; tl_crm_setup=${v}` } }) as unknown as IncomingMessage;
    const a = withCookie('1900000000.aaaa');
    const token = formToken(a, 'admin-token-0123456789');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(formTokenMatches(a, 'admin-token-0123456789', token)).toBe(true);
    expect(formTokenMatches(withCookie('1900000000.bbbb'), 'admin-token-0123456789', token)).toBe(false);
    expect(formTokenMatches(a, 'another-admin-token-0123', token)).toBe(false);
    expect(formTokenMatches(a, 'admin-token-0123456789', null)).toBe(false);
    expect(formToken({ headers: {} } as IncomingMessage, 'admin-token-0123456789')).toBe('');
  });
});
