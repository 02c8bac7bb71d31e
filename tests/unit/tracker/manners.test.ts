import { describe, expect, it } from 'vitest';
import { automated, privacySignal } from '../../../tracker/src/manners.js';

const win = (navigator: object, extra: object = {}) => ({ navigator: { userAgent: 'Mozilla/5.0 Chrome/130', ...navigator }, ...extra }) as unknown as Window;

describe('manners', () => {
  it('skips automated browsers', () => {
    expect(automated(win({}))).toBe(false);
    expect(automated(win({ webdriver: true }))).toBe(true);
  });
  it('lets a test allow automation with window.__throughlineAllowAutomation', () => {
    expect(automated(win({ webdriver: true }, { __throughlineAllowAutomation: true }))).toBe(false);
  });
  it('sees Do-Not-Track and Global Privacy Control', () => {
    expect(privacySignal({ doNotTrack: '1' } as Navigator)).toBe(true);
    expect(privacySignal({ globalPrivacyControl: true } as unknown as Navigator)).toBe(true);
    expect(privacySignal({ doNotTrack: '0' } as Navigator)).toBe(false);
    expect(privacySignal({ doNotTrack: null } as Navigator)).toBe(false);
  });
});
