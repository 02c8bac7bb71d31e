// The admin's Metrika routes (the CRM admin token, Bearer; no-store):
//   GET  /admin/metrika/conversions.csv?from=YYYY-MM-DD&to=YYYY-MM-DD&goal=<Target>
//        the period's offline conversions as Metrika's CSV file (period.ts), to
//        upload by hand (Metrika: Goals → the goal → Upload data). Needs no
//        counter nor token; `goal` defaults to METRIKA_GOAL.
//   POST /admin/metrika/conversions/upload?from=…&to=…&goal=…
//        the same file queued for the `metrika` sender (period-upload.ts): 202
//        with the message's id and its number of rows.
// Both tell how many won deals were left out, by reason (no_metrika_id, and the
// CSV rules' reasons): the download in the header Throughline-Skipped
// (`no_metrika_id=2, bad_currency=1`), the upload in its answer.
import { Router, type Request, type Response } from 'express';
import { isStorableDay, STORABLE_DAY_RULE } from '../../clickhouse/days.js';
import { admit, adminGate } from '../../http/auth.js';
import { requestLog } from '../../http/redact.js';
import { onceEach, queryPairs } from '../../reports/options.js';
import type { Services } from '../../services.js';
import { conversionsCsv } from './conversions.js';
import { periodConversions, type Period } from './period.js';
import { PeriodUploads } from './period-upload.js';
import { GOAL_RULE_TEXT, isGoal } from './rules.js';
import { METRIKA } from './upload.js';

/** The longest period asked for at once. */
const MAX_DAYS = 366;

type Asked = { period: Period; goal: string };
type Refusal = { error: string; reason: string };

/** The period and goal a request asks for, or why they cannot be answered. */
export function askedPeriod(url: string, defaultGoal: string | null): Asked | Refusal {
  const given = onceEach(queryPairs(url), ['from', 'to', 'goal']);
  if ('error' in given) return { error: 'bad_parameters', reason: given.error };
  const { from, to, goal = defaultGoal ?? '' } = given.params;
  if (!from || !to) return { error: 'bad_period', reason: 'from and to are both needed: days YYYY-MM-DD (UTC), both included' };
  if (!isStorableDay(from)) return { error: 'bad_period', reason: `from must be ${STORABLE_DAY_RULE}` };
  if (!isStorableDay(to)) return { error: 'bad_period', reason: `to must be ${STORABLE_DAY_RULE}` };
  if (from > to) return { error: 'bad_period', reason: 'from is after to' };
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1 > MAX_DAYS) return { error: 'bad_period', reason: `a period of at most ${MAX_DAYS} days` };
  if (!goal) return { error: 'no_goal', reason: 'name the goal: goal=<its identifier>, or set METRIKA_GOAL' };
  if (!isGoal(goal)) return { error: 'bad_goal', reason: `goal must be ${GOAL_RULE_TEXT}` };
  return { period: { from, to }, goal };
}

const skippedText = (skipped: Record<string, number>) =>
  Object.entries(skipped)
    .map(([reason, n]) => `${reason}=${n}`)
    .join(', ');

export function metrikaRouter(svc: Services): Router {
  const r = Router();
  const gate = admit(adminGate(svc.config.crm.adminToken));
  const defaultGoal = svc.config.metrika?.goal ?? null;
  const uploads = new PeriodUploads(svc.clickhouse, svc.outbound.outbox);
  const asked = (req: Request, res: Response): Asked | null => {
    res.set('Cache-Control', 'no-store');
    const a = askedPeriod(req.originalUrl, defaultGoal);
    if ('error' in a) {
      res.status(400).json(a);
      return null;
    }
    return a;
  };

  r.get('/admin/metrika/conversions.csv', gate, async (req, res) => {
    const a = asked(req, res);
    if (!a) return;
    try {
      const { lines, skipped } = await periodConversions(svc.clickhouse, a.period, a.goal);
      if (Object.keys(skipped).length) res.set('Throughline-Skipped', skippedText(skipped));
      res
        .type('text/csv; charset=utf-8')
        .attachment(`conversions-${a.goal}-${a.period.from}-${a.period.to}.csv`)
        .send(conversionsCsv(lines.map((l) => l.line)));
    } catch (err) {
      svc.log.error(requestLog(req, err), 'Metrika conversions not readable');
      res.status(503).json({ error: 'conversions_unavailable', reason: 'the deals could not be read; try again' });
    }
  });

  r.post('/admin/metrika/conversions/upload', gate, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (!svc.outbound.senders.some((s) => s.name === METRIKA)) {
      return void res.status(409).json({ error: 'metrika_not_configured', reason: 'set METRIKA_COUNTER_ID and METRIKA_TOKEN to upload to Metrika' });
    }
    const a = asked(req, res);
    if (!a) return;
    try {
      const q = await uploads.queue(a.period, a.goal);
      if (q.kind === 'empty') {
        return void res.status(422).json({ error: 'no_conversions', reason: 'no conversion of the period can be sent', tooOld: q.tooOld, skipped: q.skipped });
      }
      if (q.fresh) svc.outbound.wake();
      res.status(202).json({ id: q.message.id, state: q.message.state, queued: q.fresh, rows: q.rows, tooOld: q.tooOld, skipped: q.skipped });
    } catch (err) {
      svc.log.error(requestLog(req, err), 'Metrika period upload not queued');
      res.status(503).json({ error: 'upload_not_queued', reason: 'the deals or the outbox could not be read or written; try again' });
    }
  });
  return r;
}
