// The deployment files check liveness, not readiness: the image's HEALTHCHECK
// asks /livez, a route the collector has (collector/src/app.ts), and none of the
// deployment files points a health check at /readyz or /healthz, which a
// ClickHouse or Redis outage fails (docs/operations.md, "Liveness and readiness").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';

const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');
/** A file's lines without its comments. */
const code = (text: string) => text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');

describe('health checks of the deployment files', () => {
  it('the image checks /livez', () => {
    const dockerfile = code(read('deploy', 'docker', 'Dockerfile')).replace(/\\\n/g, ' ');
    const [health, ...more] = dockerfile.split('\n').filter((l) => /^HEALTHCHECK\b/.test(l.trim()));
    expect(more).toEqual([]);
    expect(health).toContain("'/livez'");
    expect(health).not.toMatch(/\/(readyz|healthz)/);
  });

  it('the compose file and the systemd unit set no check of their own on a readiness route', () => {
    for (const file of [read('deploy', 'docker', 'compose.yaml'), read('deploy', 'systemd', 'throughline-collector.service')]) {
      expect(code(file)).not.toMatch(/\/(readyz|healthz)/);
    }
    // The compose file's collector relies on the image's check, which it names.
    expect(read('deploy', 'docker', 'compose.yaml')).toContain('HEALTHCHECK on /livez');
  });

  it('the collector serves /livez, /readyz and /healthz', () => {
    const app = read('collector', 'src', 'app.ts');
    for (const route of ['/livez', '/readyz', '/healthz']) expect(app).toContain(`app.get('${route}'`);
  });
});
