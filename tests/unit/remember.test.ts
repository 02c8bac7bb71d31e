import { describe, expect, it } from 'vitest';
import { remember } from '../../collector/src/cache/remember.js';

describe('remember', () => {
  it('computes each value once, null answers included, and starts over when full', () => {
    const asked: string[] = [];
    const f = remember((k) => {
      asked.push(k);
      return k === 'none' ? null : k.length;
    }, 2);
    expect([f('ab'), f('ab'), f('none'), f('none')]).toEqual([2, 2, null, null]);
    expect(asked).toEqual(['ab', 'none']);
    f('xyz'); // full: forgets the first two
    f('ab');
    expect(asked).toEqual(['ab', 'none', 'xyz', 'ab']);
  });
});
