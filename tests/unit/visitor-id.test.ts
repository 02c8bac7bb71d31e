import { describe, expect, it } from 'vitest';
import { ALPHABET, ID_SPACE, normalizeVisitorId, randomVisitorId } from '../../collector/src/visitor-id/id.js';
import { visitorId as trackerVisitorId } from '../../tracker/src/ids.js';

describe('visitor id', () => {
  it('uses 31 characters a person does not confuse', () => {
    expect(ALPHABET).toHaveLength(31);
    for (const c of '0O1IL') expect(ALPHABET).not.toContain(c);
    expect(new Set(ALPHABET).size).toBe(31);
    expect(ID_SPACE).toBe(887_503_681);
  });

  it('draws 6 characters of the alphabet, spread over all of them, in no sequence', () => {
    const ids = Array.from({ length: 5000 }, randomVisitorId);
    for (const id of ids) expect(id).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    expect(new Set(ids.join(''))).toEqual(new Set(ALPHABET));
    expect(new Set(ids).size).toBeGreaterThan(4990);
    // consecutive draws share no prefix more often than chance would allow
    let sharedPrefix = 0;
    for (let i = 1; i < ids.length; i++) if (ids[i]!.slice(0, 3) === ids[i - 1]!.slice(0, 3)) sharedPrefix++;
    expect(sharedPrefix).toBeLessThan(5);
  });

  it('normalises case and rejects anything else', () => {
    expect(normalizeVisitorId('ab23cd')).toBe('AB23CD');
    expect(normalizeVisitorId(' AB23CD ')).toBe('AB23CD');
    for (const bad of ['AB12CD', 'ABCDE', 'ABCDEFG', 'AB-3CD', '']) expect(normalizeVisitorId(bad)).toBeNull();
  });

  it('agrees with the tracker on what an id looks like', () => {
    for (const id of Array.from({ length: 200 }, randomVisitorId)) expect(trackerVisitorId(id.toLowerCase())).toBe(id);
    for (const c of '0O1IL') expect(trackerVisitorId(`AB${c}CDE`.slice(0, 6))).toBe('');
  });
});
