import { describe, expect, it } from 'vitest';
import { plusAddresses, plusMailto, tagMailto } from '../../../tracker/src/contacts/mailto.js';

const ID = 'AB23CD';

describe('mailto subject tag', () => {
  const tag = (href: string) => tagMailto(href, ID);

  it('adds a subject when there is none', () => {
    expect(tag('mailto:sales@site.ru')).toBe('mailto:sales@site.ru?subject=%5BAB23CD%5D');
    expect(tag('mailto:sales@site.ru?body=Hi')).toBe('mailto:sales@site.ru?body=Hi&subject=%5BAB23CD%5D');
  });
  it('prefixes an existing subject and keeps body and cc', () => {
    expect(tag('mailto:sales@site.ru?subject=Training&cc=boss@site.ru&body=Hello%20there')).toBe(
      'mailto:sales@site.ru?subject=%5BAB23CD%5D%20Training&cc=boss@site.ru&body=Hello%20there',
    );
    expect(tag('mailto:sales@site.ru?body=x&Subject=%D0%A2%D0%B5%D0%BC%D0%B0')).toBe('mailto:sales@site.ru?body=x&Subject=%5BAB23CD%5D%20%D0%A2%D0%B5%D0%BC%D0%B0');
    // an empty subject: the tag and a space, which mail clients trim
    expect(tag('mailto:sales@site.ru?subject=')).toBe('mailto:sales@site.ru?subject=%5BAB23CD%5D%20');
  });
  it('decodes to the subject a mail client shows', () => {
    const href = tag('mailto:sales@site.ru?subject=%D0%A2%D0%B5%D0%BC%D0%B0');
    expect(decodeURIComponent(new URL(href).search.slice('?subject='.length))).toBe('[AB23CD] Тема');
  });
  it('is idempotent', () => {
    const once = tag('mailto:sales@site.ru?subject=Training');
    expect(tag(once)).toBe(once);
    expect(tag(once.toLowerCase())).toBe(once.toLowerCase());
  });
  it('accepts MAILTO: in capitals and several recipients', () => {
    expect(tag('MAILTO:a@site.ru,b@site.ru')).toBe('MAILTO:a@site.ru,b@site.ru?subject=%5BAB23CD%5D');
  });
  it('leaves other links alone', () => {
    for (const href of ['https://site.ru/?subject=x', 'tel:+7495', 'javascript:void(0)', '', 'xmailto:a@b.ru']) expect(tag(href)).toBe(href);
  });
});

describe('mailto plus addressing', () => {
  const plus = (href: string) => plusMailto(href, ID);

  it('tags the address, lower-case, keeping the query', () => {
    expect(plus('mailto:sales@site.ru')).toBe('mailto:sales+ab23cd@site.ru');
    expect(plus('mailto:sales@site.ru?subject=Hi&body=a@b.ru')).toBe('mailto:sales+ab23cd@site.ru?subject=Hi&body=a@b.ru');
  });
  it('tags every recipient, percent-encoded @ too', () => {
    expect(plus('MAILTO:a@site.ru,b%40site.ru, c@site.ru')).toBe('MAILTO:a+ab23cd@site.ru,b+ab23cd%40site.ru, c+ab23cd@site.ru');
  });
  it('is idempotent and keeps an existing tag', () => {
    expect(plus(plus('mailto:sales@site.ru'))).toBe('mailto:sales+ab23cd@site.ru');
    expect(plus('mailto:sales+AB23CD@site.ru')).toBe('mailto:sales+AB23CD@site.ru');
    expect(plus('mailto:sales+web@site.ru')).toBe('mailto:sales+web+ab23cd@site.ru');
  });
  it('leaves a mailto without an address as it is', () => {
    expect(plus('mailto:?subject=x')).toBe('mailto:?subject=x');
    expect(plusAddresses('not an address', ID)).toBe('not an address');
  });
});

describe('copied text', () => {
  it('tags every address in the selection and nothing else', () => {
    expect(plusAddresses('Write to sales@site.ru or to support@help.site.ru, thanks.', ID)).toBe(
      'Write to sales+ab23cd@site.ru or to support+ab23cd@help.site.ru, thanks.',
    );
    expect(plusAddresses('no address here, just @ signs and a.b', ID)).toBe('no address here, just @ signs and a.b');
    expect(plusAddresses('sales+ab23cd@site.ru', ID)).toBe('sales+ab23cd@site.ru');
  });
});
