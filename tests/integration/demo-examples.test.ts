// The README's curl examples against the demo are the files of scripts/examples/:
// each runs here as a user runs it, from a directory holding the demo's
// data/demo/demo.env, against a collector on the demo's CRM configuration, and
// the deals it sends are read back as stored. The README quotes each file as it is.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { demoCrmConfig } from '../../collector/src/sample/demo-crm.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { hashEmail, hashPhone } from '../../collector/src/identity/hash.js';

const EXAMPLES = join(ROOT, 'scripts', 'examples');
const IDENTITY_KEY = 'demo-examples-identity-key-0123';
const SECRETS = { amoSecret: 'examplesAmoSecret0001', importSecret: 'examplesImportSecret01' };

type Deal = { source: string; deal_id: string; outcome: string; stage: string; amount_minor: string; visitor_id: string; email_hashes: string[]; phone_hashes: string[]; utm_source: string };

describe('the demo examples (scripts/examples/)', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  const dir = mkdtempSync(join(tmpdir(), 'tl-examples-'));

  /** Runs an example as the README says: from the repository's root, here a directory with data/demo/demo.env. */
  const run = (file: string) => {
    const r = spawnSync('bash', [join(EXAMPLES, file)], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const deals = (source: string) =>
    db.rows<Deal>(`SELECT source, deal_id, outcome, stage, toString(amount_minor) AS amount_minor, visitor_id, email_hashes, phone_hashes, utm_source
      FROM deals_current WHERE source = '${source}' ORDER BY deal_id`);

  beforeAll(async () => {
    db = await freshDatabase();
    writeFileSync(join(dir, 'crm.json'), JSON.stringify(demoCrmConfig(SECRETS)));
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), IDENTITY_KEY });
    // What npm run demo keeps (scripts/demo.sh): the secrets and the collector's address.
    mkdirSync(join(dir, 'data', 'demo'), { recursive: true });
    writeFileSync(join(dir, 'data', 'demo', 'demo.env'), `# as npm run demo writes it\nAMO_SECRET=${SECRETS.amoSecret}\nIMPORT_SECRET=${SECRETS.importSecret}\nCOLLECTOR=${collector.url}\n`);
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('amocrm-webhook.sh: amoCRM\'s webhook of a won deal, stored won with its visitor', async () => {
    expect(run('amocrm-webhook.sh')).toMatchObject({ stored: 1, deals: 1, refused: [], warnings: [], unusable: [] });
    expect(await deals('amo')).toEqual([
      { source: 'amo', deal_id: '10701093', outcome: 'won', stage: 'Paid', amount_minor: '2250000', visitor_id: 'HK7M9P', email_hashes: [], phone_hashes: [], utm_source: 'vk' },
    ]);
  });

  it('import-deals-json.sh: two deals, one paid with its visitor and e-mail, one refused with a phone', async () => {
    expect(run('import-deals-json.sh')).toMatchObject({ stored: 2, deals: 2, refused: [], warnings: [], unusable: [] });
    const stored = await deals('shop');
    expect(stored.filter((d) => d.deal_id.startsWith('A-'))).toEqual([
      { source: 'shop', deal_id: 'A-1001', outcome: 'won', stage: 'Paid', amount_minor: '249990', visitor_id: 'HK7M9P', email_hashes: [hashEmail('buyer@example.com', IDENTITY_KEY)], phone_hashes: [], utm_source: 'yandex' },
      { source: 'shop', deal_id: 'A-1002', outcome: 'lost', stage: 'Refused', amount_minor: '99000', visitor_id: '', email_hashes: [], phone_hashes: [hashPhone('+7 916 000-11-22', IDENTITY_KEY, 'RU')], utm_source: '' },
    ]);
  });

  it('import-deals-csv.sh: the same import as CSV, its extra columns read as the deal\'s fields', async () => {
    expect(run('import-deals-csv.sh')).toMatchObject({ stored: 2, deals: 2, refused: [], warnings: [], unusable: [] });
    const stored = await deals('shop');
    expect(stored.filter((d) => d.deal_id.startsWith('B-'))).toEqual([
      { source: 'shop', deal_id: 'B-2001', outcome: 'won', stage: 'Paid', amount_minor: '150000', visitor_id: 'HK7M9P', email_hashes: [hashEmail('anna@example.com', IDENTITY_KEY)], phone_hashes: [], utm_source: 'google' },
      { source: 'shop', deal_id: 'B-2002', outcome: 'open', stage: '2 Qualified', amount_minor: '320000', visitor_id: '', email_hashes: [], phone_hashes: [hashPhone('+79160002233', IDENTITY_KEY, 'RU')], utm_source: '' },
    ]);
  });

  it.each(readdirSync(EXAMPLES))('%s stands in the README as tested', (file) => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const quoted = readme.includes(`\n${readFileSync(join(EXAMPLES, file), 'utf8').trimEnd()}\n\`\`\``);
    expect(quoted, `README.md quotes scripts/examples/${file} as it is, in a fenced block`).toBe(true);
  });
});
