// Reading an inbound e-mail post: each vendor's field names, address lists as
// RFC 5322 has them, encoded header words, and the visitor candidates in order.
import { describe, expect, it } from 'vitest';
import { addresses, decodeHeader, readMail } from '../../collector/src/inbound-email/message.js';
import { visitorCandidates } from '../../collector/src/inbound-email/tag.js';

describe('inbound e-mail message', () => {
  it('takes a display name with a comma as one address, and flattens groups', () => {
    expect(addresses('"Петров, Иван" <ivan@mail.ru>, Sales <sales+hk7m9p@site.ru>')).toEqual(['ivan@mail.ru', 'sales+hk7m9p@site.ru']);
    expect(addresses('undisclosed-recipients:;')).toEqual([]);
    expect(addresses('Team: a@site.ru, b@site.ru;')).toEqual(['a@site.ru', 'b@site.ru']);
  });

  it('decodes RFC 2047 words in any charset and leaves plain text alone', () => {
    expect(decodeHeader('=?UTF-8?B?W0hLN005UF0g0JLQvtC/0YDQvtGB?=')).toBe('[HK7M9P] Вопрос');
    expect(decodeHeader('=?KOI8-R?Q?=F7=CF=D0=D2=CF=D3_[hk7m9p]?=')).toBe('Вопрос [hk7m9p]');
    expect(decodeHeader('Re: [HK7M9P] plain')).toBe('Re: [HK7M9P] plain');
  });

  it('Mailgun: the sender is From, not the envelope bounce address; To, Cc and the headers are recipients', () => {
    const mail = readMail({
      recipient: 'inbox@mg.site.ru',
      sender: 'bounces+srs@relay.mail.ru',
      from: '"Петров, Иван" <Ivan@mail.ru>',
      To: 'sales+hk7m9p@site.ru',
      Cc: 'boss@site.ru',
      subject: 'Вопрос',
      'message-headers': JSON.stringify([['X-Original-To', 'orders@site.ru']]),
    });
    expect(mail).toEqual({ recipients: ['inbox@mg.site.ru', 'sales+hk7m9p@site.ru', 'boss@site.ru', 'orders@site.ru'], from: 'Ivan@mail.ru', subject: 'Вопрос' });
  });

  it('SendGrid: envelope JSON and raw folded headers', () => {
    const mail = readMail({
      to: 'sales@site.ru',
      from: 'Anna <anna@yandex.ru>',
      envelope: '{"to":["sales+xy45zq@site.ru"],"from":"bounce@yandex.ru"}',
      headers: 'Subject: =?UTF-8?B?W1hZNDVaUV0=?=\r\nDelivered-To:\r\n  fwd@site.ru\r\n',
    });
    expect(mail).toEqual({ recipients: ['sales@site.ru', 'sales+xy45zq@site.ru', 'fwd@site.ru'], from: 'anna@yandex.ru', subject: '[XY45ZQ]' });
  });

  it('Postmark: FromFull, ToFull, CcFull, OriginalRecipient', () => {
    const mail = readMail({
      From: 'bounce@x.ru',
      FromFull: { Email: 'sergey@mail.ru', Name: 'Сергей' },
      ToFull: [{ Email: 'sales@inbound.site.ru', Name: '' }],
      CcFull: [{ Email: 'cc@site.ru', Name: 'Cc' }],
      OriginalRecipient: 'sales+hk7m9p@site.ru',
      Subject: 'Re: заказ',
      Headers: [{ Name: 'X-Forwarded-To', Value: 'fwd@site.ru' }],
    });
    expect(mail).toEqual({ recipients: ['sales+hk7m9p@site.ru', 'sales@inbound.site.ru', 'cc@site.ru', 'fwd@site.ru'], from: 'sergey@mail.ru', subject: 'Re: заказ' });
  });

  it('lists visitor candidates: recipients first, then every bracketed tag of the subject', () => {
    expect(visitorCandidates(['sales@site.ru', 'sales+xy45zq@site.ru'], '[URGENT] [HK7M9P] Re: [xy45zq]')).toEqual(['XY45ZQ', 'URGENT', 'HK7M9P']);
    expect(visitorCandidates([], 'no tag [toolong1] [ab]')).toEqual([]);
  });
});

