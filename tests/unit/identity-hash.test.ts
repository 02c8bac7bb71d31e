import { describe, expect, it } from 'vitest';
import { contactHash, hashEmail, hashPhone, normalizeEmail, normalizePhone } from '../../collector/src/identity/hash.js';

const KEY = 'k'.repeat(32);

describe('contact normalisation and keyed hashes', () => {
  it('normalises e-mail addresses', () => {
    expect(normalizeEmail('  Ivan.Petrov+shop@Mail.RU ')).toBe('ivan.petrov@mail.ru');
    expect(normalizeEmail('mailto:a@b.co')).toBe('a@b.co');
    expect(normalizeEmail('not an address')).toBeNull();
    expect(normalizeEmail('+tag@b.co')).toBeNull();
  });
  it('normalises phones to E.164 with a default country', () => {
    expect(normalizePhone('8 (916) 123-45-67')).toBe('+79161234567');
    expect(normalizePhone('+7 916 123 45 67')).toBe('+79161234567');
    expect(normalizePhone('9161234567')).toBe('+79161234567');
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalizePhone('123')).toBeNull();
    expect(normalizePhone('call me')).toBeNull();
  });
  it('gives one hash per person whatever the spelling, and depends on the key', () => {
    expect(hashPhone('8 916 123-45-67', KEY)).toBe(hashPhone('+79161234567', KEY));
    expect(hashEmail('A@B.co', KEY)).toBe(hashEmail('a+x@b.co', KEY));
    expect(hashEmail('a@b.co', KEY)).not.toBe(hashEmail('a@b.co', 'other-key-other-key'));
    expect(contactHash('email', 'a@b.co', KEY)).toMatch(/^[0-9a-f]{32}$/);
    expect(contactHash('email', 'x', KEY)).not.toBe(contactHash('phone', 'x', KEY));
  });
});
