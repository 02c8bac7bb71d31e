// Point 14: a CRM configuration sent through the admin API is validated in full
// (well-formed text, formulas that name declared variables only, everything the
// start does with it) before it is saved. One that cannot be applied gets a 422
// with its reasons; the configuration in force and stored stays, and a restart
// on the same database starts and serves it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../../helpers/collector.js';

const ADMIN = 'admin-token-attack-0123456789';
const LONE = '\udc00';

const FIRST = { funnel: [{ stage: 'New' }, { stage: 'Won', marker: 'won' }], sources: {} };
const source = (calculated: unknown[]) => ({ kind: 'import', secret: 'shop_secret_0123456789ab', pipelines: { '*': { paid: 'Paid' } }, calculated });
const GOOD = {
  funnel: [{ stage: 'New' }, { stage: 'Paid', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
  sources: { shop: source([{ name: 'margin', formula: 'amount - cost', variables: { cost: 'Cost price' } }]) },
};

describe('point 14: admin configuration validated in full before it is saved', () => {
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;
  let env: Record<string, string>;
  const auth = { Authorization: `Bearer ${ADMIN}` };
  const put = async (body: string) => {
    const res = await fetch(`${collector.url}/crm/config`, { method: 'PUT', body, headers: { ...auth, 'Content-Type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as { error?: string; reason?: string } };
  };
  const get = async () => (await fetch(`${collector.url}/crm/config`, { headers: auth })).json();
  const storedRows = async () => Number((await db.rows<{ n: string }>(`SELECT count() AS n FROM crm_config`))[0]!.n);

  beforeAll(async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-attack-config-'));
    await writeFile(join(dir, 'crm.json'), JSON.stringify(FIRST));
    env = { CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), CRM_ADMIN_TOKEN: ADMIN, REDIS_PREFIX: `t_${db.name}:` };
    collector = await startCollector(env);
    const ok = await put(JSON.stringify(GOOD));
    expect(ok.status).toBe(200);
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const bad: [string, unknown, RegExp][] = [
    ['a lone surrogate in a stage name', { ...GOOD, funnel: [{ stage: `New${LONE}` }, ...GOOD.funnel.slice(1)] }, /funnel\.0\.stage: not well-formed text/],
    ['a lone surrogate in a pipeline key', { ...GOOD, sources: { shop: { ...source([]), pipelines: { [`p${LONE}`]: { paid: 'Paid' } } } } }, /sources\.shop\.pipelines.*not well-formed text/],
    ['a control character in a stage name', { ...GOOD, funnel: [{ stage: 'New\u0007' }, ...GOOD.funnel.slice(1)] }, /funnel\.0\.stage: .*control/],
    ['a formula naming constructor', { ...GOOD, sources: { shop: source([{ name: 'x', formula: 'constructor + 1' }]) } }, /unknown variable "constructor"/],
    ['a formula naming __proto__', { ...GOOD, sources: { shop: source([{ name: 'x', formula: '__proto__ * 2' }]) } }, /unknown variable "__proto__"/],
    ['a formula naming toString', { ...GOOD, sources: { shop: source([{ name: 'x', formula: 'toString(amount)' }]) } }, /function "toString" is not allowed/],
    ['a formula naming toString as a value', { ...GOOD, sources: { shop: source([{ name: 'x', formula: 'toString' }]) } }, /unknown variable "toString"/],
    ['a formula that cannot be evaluated', { ...GOOD, sources: { shop: source([{ name: 'x', formula: 'round(amount, 2, 3)' }]) } }, /calculated\.0: formula of "x" cannot be evaluated/],
    ['a formula with an assignment', { ...GOOD, sources: { shop: source([{ name: 'x', formula: 'amount = 1' }]) } }, /calculated\.0: .*AssignmentNode is not allowed/],
    ['a control character in a field name', { ...GOOD, sources: { shop: { ...source([]), keepFields: ['Source\u202e'] } } }, /sources\.shop\.keepFields\.0: control/],
    ['a funnel that is not a list', { ...GOOD, funnel: 'New, Paid' }, /funnel: /],
    ['sources that are a list', { ...GOOD, sources: [source([])] }, /sources: /],
    ['null', null, /\(top\)/],
    ['a formula nested beyond reason', { ...GOOD, sources: { shop: source([{ name: 'deep', formula: `${'('.repeat(20_000)}amount${')'.repeat(20_000)}` }]) } }, /calculated\.0/],
  ];
  for (const [name, value, reason] of bad) {
    it(`14. ${name} is refused with 422 and a reason; the configuration in force and stored stays`, async () => {
      const rows = await storedRows();
      const r = await put(JSON.stringify(value));
      expect(r.status).toBe(422);
      expect(r.body.error).toBe('invalid_config');
      expect(r.body.reason).toMatch(reason);
      expect(await get()).toMatchObject({ funnel: GOOD.funnel, sources: { shop: { calculated: GOOD.sources.shop.calculated } } });
      expect(await storedRows()).toBe(rows);
    });
  }

  it('14. after the refused ones, a restart on the same database starts and serves the previous configuration', async () => {
    const before = await get();
    await collector.stop();
    collector = await startCollector(env);
    expect(await get()).toEqual(before);
    expect((before as { funnel: unknown }).funnel).toEqual(GOOD.funnel);
  });

  it('14. a stored configuration that cannot be applied (saved by an older version) does not stop the start: the newest one that can be is used', async () => {
    const before = await get();
    const poisoned = JSON.stringify({ ...GOOD, funnel: [{ stage: `Bad${LONE}` }] });
    const at = Date.now() + 1000;
    await db.client.insert({
      table: 'crm_config',
      values: [{ id: 'crm', body: poisoned, saved_at: new Date(at).toISOString().slice(0, 19).replace('T', ' '), version: at }],
      format: 'JSONEachRow',
    });
    await collector.stop();
    collector = await startCollector(env);
    expect(await get()).toEqual(before);
    expect(collector.output()).toMatch(/stored CRM configuration .* cannot be applied/);
  });
});
