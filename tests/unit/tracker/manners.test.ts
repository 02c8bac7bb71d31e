// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { automated, privacySignal } from '../../../tracker/src/manners.js';

describe('manners', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('skips automated browsers', () => {
    vi.stubGlobal('navigator', { webdriver: false });
    expect(automated()).toBe(false);
    vi.stubGlobal('navigator', { webdriver: true });
    expect(automated()).toBe(true);
  });
  it('has no switch a page could set to be counted from an automated browser', () => {
    vi.stubGlobal('navigator', { webdriver: true });
    Object.assign(window, { __throughlineAllowAutomation: true });
    expect(automated()).toBe(true);
  });
  it('sees Do-Not-Track and Global Privacy Control', () => {
    vi.stubGlobal('navigator', { doNotTrack: '1' });
    expect(privacySignal()).toBe(true);
    vi.stubGlobal('navigator', { globalPrivacyControl: true });
    expect(privacySignal()).toBe(true);
    vi.stubGlobal('navigator', { doNotTrack: '0' });
    expect(privacySignal()).toBe(false);
    vi.stubGlobal('navigator', { doNotTrack: null });
    expect(privacySignal()).toBe(false);
  });
});
