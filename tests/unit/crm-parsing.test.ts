// Vendor payloads into Throughline's change shape: amoCRM's bracket notation,
// Zoho records, import rows and CSV; the visitor id in e-mail; versions.
import { describe, expect, it } from 'vitest';
import { leadFromApi, parseAmoBody } from '../../collector/src/crm/amocrm/webhook.js';
import { dealVersion, versionSeconds } from '../../collector/src/crm/deals/version.js';
import { csvToBody, dealsFromBody } from '../../collector/src/crm/import/rows.js';
import { dealFromZoho, zohoRecordError } from '../../collector/src/crm/zoho/record.js';
import { extractVisitorId, normalizeVisitorId, visitorIdFromAddress, visitorIdFromSubject } from '../../collector/src/inbound-email/visitor-tag.js';

const STATUS_CHANGE =
  'leads[status][0][id]=10701093&leads[status][0][status_id]=142&leads[status][0][old_status_id]=20067736' +
  '&leads[status][0][price]=22500&leads[status][0][responsible_user_id]=2079676' +
  '&leads[status][0][last_modified]=1539782664&leads[status][0][date_create]=1539782209' +
  '&leads[status][0][pipeline_id]=9217056&leads[status][0][account_id]=17769199' +
  '&leads[status][0][custom_fields][0][id]=66339&leads[status][0][custom_fields][0][name]=%D0%98%D1%81%D1%82%D0%BE%D1%87%D0%BD%D0%B8%D0%BA' +
  '&leads[status][0][custom_fields][0][values][0][value]=%D0%A1%D0%B0%D0%B9%D1%82&leads[status][0][custom_fields][0][values][0][enum]=139517' +
  '&leads[status][0][custom_fields][1][id]=70001&leads[status][0][custom_fields][1][name]=Date&leads[status][0][custom_fields][1][values][0]=1542067200' +
  '&leads[status][0][tags][0][id]=1&leads[status][0][tags][0][name]=vip' +
  '&account[subdomain]=apfitness&account[id]=17769199';

describe('amoCRM webhook bodies', () => {
  it('reads the real status change, custom fields (a date without [value]) and tags', () => {
    const body = parseAmoBody(STATUS_CHANGE);
    if ('reason' in body) throw new Error(body.reason);
    expect(body.account).toEqual({ id: '17769199', subdomain: 'apfitness' });
    expect(body.changes.deals).toHaveLength(1);
    expect(body.changes.deals[0]).toMatchObject({
      dealId: '10701093',
      action: 'status',
      changedAt: 1539782664,
      createdAt: 1539782209,
      statusId: '142',
      pipelineId: '9217056',
      amountMinor: 2250000,
      vendorOutcome: 'won',
      complete: true,
      fields: [
        { id: '66339', name: 'Источник', code: '', value: 'Сайт' },
        { id: '70001', name: 'Date', code: '', value: '1542067200' },
        { id: '', name: 'tags', code: '', value: 'vip' },
      ],
    });
  });

  it('reads several entities and actions of one POST, deletes with an id only, contacts with phones and e-mails', () => {
    const body = parseAmoBody(
      [
        'leads[add][0][id]=1&leads[add][0][status_id]=11&leads[add][0][price]=100&leads[add][0][last_modified]=1700000000',
        'leads[status][0][id]=1&leads[status][0][status_id]=12&leads[status][0][last_modified]=1700000000',
        'leads[delete][0][id]=2',
        'leads[restore][0][id]=3',
        'contacts[add][0][id]=77&contacts[add][0][custom_fields][0][code]=PHONE&contacts[add][0][custom_fields][0][values][0][value]=8 916 123-45-67',
        'contacts[add][0][custom_fields][1][name]=Email&contacts[add][0][custom_fields][1][values][0][value]=ivan@mail.ru',
        'contacts[add][0][linked_leads_id][1]=1',
        'task[add][0][id]=5&note_lead[add][0][id]=6',
        'account[id]=9',
      ].join('&'),
    );
    if ('reason' in body) throw new Error(body.reason);
    expect(body.changes.deals.map((d) => [d.dealId, d.action, d.complete])).toEqual([
      ['1', 'add', true],
      ['1', 'status', true],
      ['2', 'delete', false],
      ['3', 'restore', false],
    ]);
    expect(body.changes.contacts).toEqual([{ at: 'contacts[add][0]', contactId: '77', phones: ['8 916 123-45-67'], emails: ['ivan@mail.ru'], dealIds: ['1'] }]);
    expect(body.changes.ignored).toBe(2);
  });

  const bad: [string, string, RegExp][] = [
    ['JSON', '{"leads":[]}', /x-www-form-urlencoded/],
    ['a form of something else', 'name=Ivan&phone=123', /no amoCRM entity/],
    ['no account', 'leads[add][0][id]=1&leads[add][0][status_id]=1', /no account/],
  ];
  for (const [name, text, reason] of bad) {
    it(`refuses ${name} with a reason`, () => {
      const r = parseAmoBody(text);
      expect('reason' in r && r.reason).toMatch(reason);
    });
  }

  it('refuses a lead it cannot read alone, by its id or its place, and reads the others', () => {
    const body = parseAmoBody(
      [
        'leads[add][0][name]=x',
        'leads[update][0][id]=1',
        'leads[merge][0][id]=2',
        'leads[update][1][id]=3&leads[update][1][status_id]=1&leads[update][1][price]=lots',
        'leads[update][2][id]=4&leads[update][2][status_id]=1&leads[update][2][price]=10',
        'account[id]=1',
      ].join('&'),
    );
    if ('reason' in body) throw new Error(body.reason);
    expect(body.changes.refused).toEqual([
      { record: 'leads[add][0]', reason: 'leads[add][0] has no numeric id' },
      { record: '1', reason: 'no status_id' },
      { record: '2', reason: 'unknown lead action "merge"' },
    ]);
    // A price that is not an amount is left for the deal check to refuse.
    expect(body.changes.deals.map((d) => [d.dealId, d.amountMinor])).toEqual([
      ['3', NaN],
      ['4', 1000],
    ]);
  });

  it('reads a lead from API v4', () => {
    const d = leadFromApi({
      id: 5,
      name: 'Deal',
      price: 1500,
      status_id: 143,
      pipeline_id: 9,
      created_at: 1700000000,
      updated_at: 1700000100,
      closed_at: 1700000100,
      is_deleted: true,
      custom_fields_values: [{ field_id: 1, field_name: 'visitor_id', field_code: null, values: [{ value: 'AB12CD' }] }],
      _embedded: { contacts: [{ id: 77 }] },
    });
    expect(d).toMatchObject({ dealId: '5', statusId: '143', vendorOutcome: 'lost', amountMinor: 150000, deleted: true, changedAt: 1700000100, contactIds: ['77'] });
    expect(d.fields).toEqual([{ id: '1', name: 'visitor_id', code: '', value: 'AB12CD' }]);
  });
});

describe('deal versions', () => {
  const a = parseAmoBody(STATUS_CHANGE);
  if ('reason' in a) throw new Error(a.reason);
  const change = a.changes.deals[0]!;
  it('are the same for the same change and grow with time and action', () => {
    expect(dealVersion(change, 1539782664)).toBe(dealVersion({ ...change }, 1539782664));
    expect(versionSeconds(dealVersion(change, 1539782664))).toBe(1539782664);
    expect(dealVersion({ ...change, action: 'update' }, 1539782664)).toBeLessThan(dealVersion(change, 1539782664));
    expect(dealVersion({ ...change, action: 'delete' }, 1539782663)).toBeLessThan(dealVersion({ ...change, action: 'add' }, 1539782664));
    expect(Number.isSafeInteger(dealVersion({ ...change, action: 'delete' }, 2 ** 32 - 1))).toBe(true);
  });
});

describe('Zoho records', () => {
  it('reads the standard and custom fields', () => {
    const rec = {
      id: '5725767000003000064',
      Deal_Name: 'Website redesign',
      Stage: 'Closed Won',
      Amount: 1234.5,
      Currency: 'EUR',
      Closing_Date: '2024-06-11',
      Pipeline: { name: 'Standard', id: '1' },
      Created_Time: '2024-06-10T10:00:00+05:30',
      Modified_Time: '2024-06-11T10:00:00+05:30',
      Contact_Name: { name: 'Ivan', id: '5725767000003000001' },
      visitor_id: 'ab12cd',
      Owner: { name: 'Sales', id: '2' },
      Tag: [],
    };
    expect(zohoRecordError(rec)).toBeNull();
    const d = dealFromZoho(rec, 'update', 'Closed Won');
    expect(d).toMatchObject({
      dealId: '5725767000003000064',
      statusId: 'Closed Won',
      pipelineId: 'Standard',
      amountMinor: 123450,
      currency: 'EUR',
      vendorOutcome: 'won',
      changedAt: Date.parse('2024-06-11T10:00:00+05:30') / 1000,
      closedAt: Date.parse('2024-06-11') / 1000,
      contactIds: ['5725767000003000001'],
    });
    expect(d.fields.map((f) => [f.name, f.value])).toEqual([
      ['visitor_id', 'ab12cd'],
      ['Owner', 'Sales'],
    ]);
    expect(zohoRecordError({ id: 'x', Stage: 'a' })).toBe('no numeric id');
    expect(zohoRecordError({ id: '1' })).toBe('no Stage');
  });
});

describe('import rows', () => {
  it('reads the documented CSV columns; other columns are custom fields', () => {
    const csv = 'id;name;pipeline;status;amount;currency;updated_at;email;phone;visitor_id;utm_source;deleted\n' + 'D-1;Order 1;shop;paid;1 500,50;RUB;2024-06-11 10:00:00Z;a@b.co;+79161234567;AB12CD;yandex;0\n';
    const body = csvToBody(csv);
    if ('error' in body) throw new Error(body.error);
    const read = dealsFromBody(body, true);
    if ('error' in read) throw new Error(read.error);
    const d = read.deals[0]!;
    expect(d).toMatchObject({ at: 'line 2', dealId: 'D-1', statusId: 'paid', pipelineId: 'shop', amountMinor: 150050, emails: ['a@b.co'], phones: ['+79161234567'], deleted: false });
    expect(d.fields).toEqual([
      { id: '', name: 'visitor_id', code: '', value: 'AB12CD' },
      { id: '', name: 'utm_source', code: '', value: 'yandex' },
    ]);
  });
  it('refuses a bad CSV row alone, by its id or its line, and reads the others', () => {
    const read = dealsFromBody(csvToBody('id,status,updated_at\n1,new,yesterday\n2,new,1717200000\n,new,1717200000\n'), true);
    expect(read).toMatchObject({
      deals: [{ dealId: '2', at: 'line 3' }],
      refused: [
        { record: '1', reason: 'updated_at: a unix time or an ISO 8601 date' },
        { record: 'line 4', reason: expect.stringMatching(/^id: /) },
      ],
    });
    expect(dealsFromBody({ deals: [] }, false)).toMatchObject({ error: expect.stringMatching(/^deals: /) });
    expect(csvToBody('id,status\n"1,new\n')).toMatchObject({ error: expect.stringMatching(/CSV does not parse/) });
  });
});

describe('the visitor id in e-mail', () => {
  it('is 6 characters without look-alikes, any case, stored upper-case', () => {
    expect(normalizeVisitorId('ab12cd')).toBe(null); // 1 is not in the alphabet
    expect(normalizeVisitorId('ab23cd')).toBe('AB23CD');
    expect(normalizeVisitorId('AB0OCD')).toBeNull();
    expect(normalizeVisitorId('ABCDEFG')).toBeNull();
  });
  it('comes from a plus-address first, then from a subject tag', () => {
    expect(visitorIdFromAddress('Sales <sales+ab23cd@site.ru>')).toBe('AB23CD');
    expect(visitorIdFromAddress('sales+abc@site.ru')).toBeNull();
    expect(visitorIdFromSubject('Re: Fwd: [AB23CD] Question')).toBe('AB23CD');
    expect(visitorIdFromSubject('[Важно] [order] [xy45zq] order')).toBe('XY45ZQ');
    expect(extractVisitorId(['info@site.ru', 'sales+hk7m9p@site.ru'], '[AB23CD]')).toBe('HK7M9P');
    expect(extractVisitorId(['sales@site.ru'], 'no tag')).toBeNull();
  });
});
