// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { send, type Hit } from '../../../tracker/src/transport.js';

const hit: Hit = { s: 'demo', k: 'lead', e: 'abcdefgh12', t: 1, u: 'https://x.ru/', r: '', g: '', y: '', v: 'AB23CD', p: { email: 'a@b.ru' } };

describe('transport', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends a text/plain beacon (no preflight, survives unload)', () => {
    const beacon = vi.fn(() => true);
    const image = vi.fn();
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    vi.stubGlobal('Image', image);
    send('https://c.example/', hit);
    expect(beacon).toHaveBeenCalledWith('https://c.example/hit', JSON.stringify(hit));
    expect(image).not.toHaveBeenCalled();
  });

  it('falls back to an image GET when the browser refuses the beacon', () => {
    const created: { src: string }[] = [];
    vi.stubGlobal('navigator', { sendBeacon: () => false });
    vi.stubGlobal(
      'Image',
      class {
        src = '';
        constructor() {
          created.push(this);
        }
      },
    );
    send('https://c.example/', hit);
    expect(created).toHaveLength(1);
    const url = new URL(created[0]!.src);
    expect(url.pathname).toBe('/p.gif');
    expect(JSON.parse(url.searchParams.get('d')!)).toEqual(hit);
  });
});
