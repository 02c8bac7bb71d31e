import { describe, expect, it } from 'vitest';
import { shouldSendVisit, VISIT_WINDOW_MS } from '../../../tracker/src/throttle.js';

describe('visit throttle', () => {
  const now = 1_700_000_000_000;
  it('sends the first visit', () => {
    expect(shouldSendVisit(NaN, now, false)).toBe(true);
  });
  it('holds a visit within 10 minutes of the last one', () => {
    expect(shouldSendVisit(now - 1, now, false)).toBe(false);
    expect(shouldSendVisit(now - VISIT_WINDOW_MS + 1, now, false)).toBe(false);
  });
  it('sends again once 10 minutes have passed', () => {
    expect(VISIT_WINDOW_MS).toBe(600_000);
    expect(shouldSendVisit(now - VISIT_WINDOW_MS, now, false)).toBe(true);
    expect(shouldSendVisit(now - 3_600_000, now, false)).toBe(true);
  });
  it('sends a new campaign at once', () => {
    expect(shouldSendVisit(now - 1000, now, true)).toBe(true);
  });
  it('does not hold visits back when the clock was set back', () => {
    expect(shouldSendVisit(now + 60_000, now, false)).toBe(true);
  });
});
