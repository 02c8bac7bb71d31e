// E-mails as the mail services deliver them: Mailgun routes (urlencoded, or
// multipart/form-data with attachments), SendGrid Inbound Parse (multipart) and
// Postmark inbound (JSON), posted as each vendor documents it, straight into
// POST /inbound-email/<secret> of the built collector. The visitor's tag is
// found in any recipient or in the decoded subject, the sender is the person in
// From, and a big HTML part or attachment does not cost the e-mail its place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEmail } from '../../collector/src/identity/hash.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';

const SECRET = 'inbound_mail_secret_0123456789';
const IDENTITY_KEY = 'test-identity-key-0123456789';
const hash = (email: string) => hashEmail(email, IDENTITY_KEY)!;

/** A text of about `kb` kilobytes, as a long HTML reply quotes a long thread. */
const bulky = (kb: number) => `<html><body>${'<p>Цитата предыдущего письма, длинная переписка.</p>\n'.repeat(Math.ceil((kb * 1024) / 80))}</body></html>`;
/** The bytes of an attachment: a scanned PDF, say. */
const scan = (kb: number) => new Blob([new Uint8Array(kb * 1024).fill(0x25)], { type: 'application/pdf' });

describe('inbound e-mail from mail services', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let ids: string[] = [];

  const url = (secret = SECRET) => `${collector.url}/inbound-email/${secret}`;
  const postForm = (form: FormData, secret?: string) => fetch(url(secret), { method: 'POST', body: form });
  const postJson = (body: unknown) => fetch(url(), { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const form = (fields: Record<string, string>, files: Record<string, [Blob, string]> = {}) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    for (const [k, [blob, name]] of Object.entries(files)) f.append(k, blob, name);
    return f;
  };
  const linksOf = (visitor: string) =>
    db.rows<{ id_b: string }>(`SELECT id_b FROM identity_links FINAL WHERE evidence = 'inbound_email' AND kind_a = 'visitor' AND id_a = '${visitor}' AND kind_b = 'email' ORDER BY id_b`).then((r) => r.map((x) => x.id_b));

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, INBOUND_EMAIL_SECRET: SECRET, IDENTITY_KEY, REDIS_PREFIX: `t_${db.name}:` });
    // Visitor ids as the tracker has them: issued by the collector.
    ids = await Promise.all(Array.from({ length: 6 }, async () => (await fetch(`${collector.url}/vid`)).text()));
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
  });

  it('Mailgun, multipart with an attachment: a forwarded mailbox has the tag in To, the sender is From and not the bounce address', async () => {
    const vid = ids[0]!;
    const res = await postForm(
      form(
        {
          recipient: 'inbox@mg.site.ru',
          sender: 'bounces+SRS=k2x9=ivan.petrov=mail.ru@relay.mail.ru',
          from: '"Петров, Иван" <Ivan.Petrov@mail.ru>',
          subject: 'Вопрос о доставке',
          'body-plain': 'Добрый день! Когда доставка?\n',
          'stripped-text': 'Добрый день! Когда доставка?',
          To: `Отдел продаж <sales+${vid.toLowerCase()}@site.ru>`,
          'message-headers': JSON.stringify([
            ['Received', 'by mxa.mailgun.org with ESMTP'],
            ['From', '"Петров, Иван" <Ivan.Petrov@mail.ru>'],
            ['To', `Отдел продаж <sales+${vid.toLowerCase()}@site.ru>`],
            ['Subject', 'Вопрос о доставке'],
          ]),
          'attachment-count': '1',
          timestamp: '1718000000',
          token: 'a'.repeat(50),
          signature: 'b'.repeat(64),
        },
        { 'attachment-1': [scan(300), 'скан.pdf'] },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visitor_id: vid, links: 1 });
    expect(await linksOf(vid)).toEqual([hash('ivan.petrov@mail.ru')]);
  });

  it('Mailgun, urlencoded: the tag in Cc is found, and "[URGENT]" before the tag in the subject is not taken for it', async () => {
    const [ccVid, subjectVid] = [ids[1]!, ids[2]!];
    const body = new URLSearchParams({
      recipient: 'sales@site.ru',
      sender: 'olga@mail.ru',
      from: 'Ольга <olga@mail.ru>',
      subject: `[URGENT] [${subjectVid}] Счёт`,
      Cc: `"Продажи, Москва" <sales+${ccVid}@site.ru>, boss@site.ru`,
      'body-plain': 'Пришлите счёт',
      'message-headers': '[]',
    });
    const res = await fetch(url(), { method: 'POST', body: body.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(await res.json()).toEqual({ visitor_id: ccVid, links: 1 });
    const urgent = new URLSearchParams({ recipient: 'sales@site.ru', sender: 'olga@mail.ru', from: 'olga@mail.ru', subject: `Re: [URGENT] [${subjectVid}] Счёт` });
    const res2 = await fetch(url(), { method: 'POST', body: urgent.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(await res2.json()).toEqual({ visitor_id: subjectVid, links: 1 });
  });

  it('SendGrid Inbound Parse, multipart: envelope, raw headers with an encoded subject, a long HTML part and an attachment', async () => {
    const vid = ids[3]!;
    const encoded = `=?UTF-8?B?${Buffer.from(`[${vid}] Вопрос по тренировкам`).toString('base64')}?=`;
    const res = await postForm(
      form(
        {
          headers: `Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn\nFrom: Anna Smirnova <anna@yandex.ru>\nTo: sales@site.ru\nSubject: ${encoded}\nMIME-Version: 1.0\n`,
          dkim: '{@yandex.ru : pass}',
          to: 'sales@site.ru',
          from: 'Anna Smirnova <anna@yandex.ru>',
          subject: encoded,
          text: 'Здравствуйте, хочу записаться.\n',
          html: bulky(400),
          sender_ip: '77.88.21.1',
          envelope: JSON.stringify({ to: ['sales@site.ru'], from: 'anna@yandex.ru' }),
          attachments: '1',
          charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
          SPF: 'pass',
        },
        { attachment1: [scan(2048), 'passport.pdf'] },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visitor_id: vid, links: 1 });
    expect(await linksOf(vid)).toEqual([hash('anna@yandex.ru')]);
  });

  it('Postmark inbound JSON: the original recipient carries the tag, a long HTML reply and an attachment are not refused for their size', async () => {
    const vid = ids[4]!;
    const res = await postJson({
      FromName: 'Сергей',
      MessageStream: 'inbound',
      From: 'sergey@mail.ru',
      FromFull: { Email: 'sergey@mail.ru', Name: 'Сергей', MailboxHash: '' },
      To: 'sales@inbound.site.ru',
      ToFull: [{ Email: 'sales@inbound.site.ru', Name: '', MailboxHash: '' }],
      Cc: '',
      CcFull: [],
      Bcc: '',
      BccFull: [],
      OriginalRecipient: `sales+${vid}@site.ru`,
      Subject: 'Re: заказ',
      MessageID: '73e6d360-66eb-11e1-8e72-a8904824019b',
      ReplyTo: 'sergey@mail.ru',
      MailboxHash: '',
      Date: 'Fri, 1 Aug 2024 16:45:32 -04:00',
      TextBody: 'Беру.',
      HtmlBody: bulky(600),
      StrippedTextReply: 'Беру.',
      Tag: '',
      Headers: [
        { Name: 'X-Spam-Status', Value: 'No' },
        { Name: 'Message-ID', Value: '<CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com>' },
      ],
      Attachments: [{ Name: 'scan.pdf', Content: Buffer.from(new Uint8Array(300 * 1024)).toString('base64'), ContentType: 'application/pdf', ContentLength: 300 * 1024 }],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visitor_id: vid, links: 1 });
    expect(await linksOf(vid)).toEqual([hash('sergey@mail.ru')]);
  });

  it('a mail hook posting raw headers: the KOI8-R encoded subject is decoded, a display name with a comma is one address', async () => {
    const vid = ids[5]!;
    const koi8 = `=?KOI8-R?Q?=F7=CF=D0=D2=CF=D3_[${vid}]?=`; // "Вопрос [VID]", as Gmail's raw headers show it
    const res = await postJson({ recipient: 'sales@site.ru', sender: '"Петров, Иван" <ivan@mail.ru>', subject: koi8 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visitor_id: vid, links: 1 });
    expect(await linksOf(vid)).toEqual([hash('ivan@mail.ru')]);
  });

  it('checks the secret before it reads a multipart body', async () => {
    const res = await postForm(form({ from: 'a@b.ru', to: 'sales@site.ru' }, { attachment1: [scan(64), 'x.pdf'] }), 'wrong_secret_0123456789');
    expect(res.status).toBe(401);
  });
});
