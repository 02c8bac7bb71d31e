// Accepted hits are counted in plain numbers and handed to prom-client when the
// metrics are read: every scrape shows all of them, and none twice.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../collector/src/metrics/registry.js';

const accepted = async (m: ReturnType<typeof createMetrics>, kind: string) => {
  const text = await m.registry.metrics();
  const line = new RegExp(`^throughline_hits_accepted_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
  return line ? Number(line[1]) : undefined;
};

describe('metrics', () => {
  it('shows every accepted hit once, across scrapes', async () => {
    const m = createMetrics();
    for (let i = 0; i < 3; i++) m.acceptedOf('visit').inc();
    m.acceptedOf('lead').inc();
    expect(await accepted(m, 'visit')).toBe(3);
    expect(await accepted(m, 'lead')).toBe(1);
    expect(await accepted(m, 'visit')).toBe(3);
    m.acceptedOf('visit').inc();
    expect(await accepted(m, 'visit')).toBe(4);
    expect(await accepted(m, 'tel')).toBeUndefined();
  });
});
