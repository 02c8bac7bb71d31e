// The sealing rule of the journal buffer (buffer/seal-rule.ts): pure, no clock.
import { describe, expect, it } from 'vitest';
import { sealNow, type SealState } from '../../collector/src/buffer/seal-rule.js';

const limits = { maxRows: 100, maxBytes: 1000 };
const idle: SealState = { rows: 10, bytes: 100, due: false, writing: false, betweenWrites: false, inserting: false };

describe('seal rule', () => {
  it('seals nothing empty, and nothing under every bound', () => {
    expect(sealNow({ ...idle, rows: 0, due: true }, limits)).toBe(false);
    expect(sealNow(idle, limits)).toBe(false);
  });
  it('seals at the row bound and at the age bound, once the insert in flight is done', () => {
    expect(sealNow({ ...idle, rows: 100 }, limits)).toBe(true);
    expect(sealNow({ ...idle, due: true }, limits)).toBe(true);
    expect(sealNow({ ...idle, due: true, inserting: true }, limits)).toBe(false);
  });
  it('seals at the byte bound without waiting for the insert', () => {
    expect(sealNow({ ...idle, bytes: 1000, inserting: true }, limits)).toBe(true);
  });
  it('never seals under a write, except between the commit loop’s writes', () => {
    expect(sealNow({ ...idle, bytes: 1000, writing: true }, limits)).toBe(false);
    expect(sealNow({ ...idle, bytes: 1000, writing: true, betweenWrites: true }, limits)).toBe(true);
  });
});
