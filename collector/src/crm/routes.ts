// HTTP routes of the CRM side. Every webhook is answered only after its rows
// are in ClickHouse, so a CRM that sees an error sends it again; a repeated
// delivery folds into the same versions.
//
//   POST /crm/amocrm/:source/:secret          amoCRM webhook (form, bracket notation)
//   GET  /crm/amocrm/:source/oauth            amoCRM OAuth redirect (?code=…&state=<secret>)
//   POST /crm/zoho/:source/notify             Zoho Notifications API callback (token checked)
//   POST /crm/zoho/:source/watch              (admin) subscribe / renew the Zoho channel
//   POST /crm/zoho/:source/:secret            Zoho workflow webhook, Deals (JSON or form)
//   POST /crm/zoho/:source/:secret/leads      Zoho workflow webhook, Leads (JSON or form)
//   POST /crm/import/:source/:secret/deals    any CRM: JSON {deals:[…]}
//   POST /crm/import/:source/:secret/deals.csv any CRM: CSV with a header row
//   GET|PUT /crm/config                       (admin) the CRM configuration
//
// Every route checks its sender (the URL secret, the admin token, the source)
// before it reads a byte of the body (http/auth.ts, gatedBody).
import { Router, type Request, type Response } from 'express';
import type { Services } from '../services.js';
import { leadFromApi } from './amocrm/webhook.js';
import { parseAmoBody } from './amocrm/webhook.js';
import { admit, adminGate, bodyText, gatedBody, sameSecret, type Gate } from '../http/auth.js';
import { applyConfig } from './config/apply.js';
import type { SourceConfig } from './config/schema.js';
import type { DealChange } from './change.js';
import { emptyResult, type IngestContext, type IngestResult } from './deals/ingest.js';
import { csvToBody, dealsFromBody } from './import/rows.js';
import { parseCrmJson } from './json.js';
import { ApiError } from './oauth/client.js';
import type { Crm } from './service.js';
import { requestLog } from '../http/redact.js';
import type { ZohoModule } from './zoho/api.js';
import { ZohoDelivery } from './zoho/delivery.js';
import { CrmStatus } from './status/store.js';

type Kind = SourceConfig['kind'];

function fail(res: Response, status: number, error: string, reason?: string): void {
  res.status(status).json(reason === undefined ? { error } : { error, reason });
}

/** Hashed against when no source of that name exists, so a missing source takes as long as a wrong secret. */
const NO_SECRET = 'no-such-source-secret';

/**
 * Admits a request for the source named in the URL when it is of this kind and
 * `secretOf` gives its secret (without `secretOf`, when it merely exists: its
 * token is in the body). An unknown source, a source of another kind and a
 * wrong secret get one and the same answer, so source names cannot be probed.
 * The source admitted is kept for the handler (`admitted`).
 */
function sourceGate(crm: Crm, kind: Kind, secretOf?: (req: Request) => string, refusal = 'bad_secret'): Gate {
  return (req, res) => {
    const found = crm.config.raw.sources[String(req.params.source)];
    const src = found?.kind === kind ? found : undefined;
    const secretOk = secretOf === undefined || sameSecret(secretOf(req), src?.secret ?? NO_SECRET);
    if (!src || !secretOk) {
      fail(res, 401, refusal);
      return false;
    }
    res.locals.source = src;
    res.locals.sourceId = String(req.params.source);
    return true;
  };
}

/** The source a sourceGate admitted. */
function admitted<K extends Kind>(res: Response, _kind: K): Extract<SourceConfig, { kind: K }> {
  return res.locals.source as Extract<SourceConfig, { kind: K }>;
}

/** Runs a handler; a CRM API failure becomes 502 (the CRM will deliver again), anything else 500. */
function guarded(svc: Services, fn: (req: Request, res: Response) => Promise<void>) {
  return async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      svc.log.error(requestLog(req, err), 'CRM request failed');
      if (res.headersSent) return;
      if (err instanceof ApiError) fail(res, 502, 'crm_api_failed', err.message);
      else fail(res, 500, 'internal_error');
    }
  };
}

/** `deals`: the delivery's deal changes, whose statuses the setup page lists. */
function answer(res: Response, r: IngestResult, deals: DealChange[], ignored = 0): void {
  // Counted and kept for GET /crm/status and the setup page (status/store.ts) before the answer goes out.
  const status = res.locals.crmStatus as CrmStatus | undefined;
  status?.record(String(res.locals.sourceId), (res.locals.source as SourceConfig).kind, r, ignored, deals);
  res.status(200).json({ ...r, ignored });
}

function parseJsonOrForm(req: Request): unknown {
  const text = bodyText(req);
  if (/json/.test(req.headers['content-type'] ?? '') || text.trimStart().startsWith('{') || text.trimStart().startsWith('[')) return parseCrmJson(text);
  return Object.fromEntries(new URLSearchParams(text));
}

/** Ingests a Zoho delivery and answers it, with the stages it could not place among the warnings. */
async function answerZoho(crm: Crm, res: Response, delivery: ZohoDelivery): Promise<void> {
  const result = await crm.ingest.apply(delivery.context(), delivery.deals, delivery.contacts, delivery.refused);
  result.warnings.push(...delivery.warnings);
  answer(res, result, delivery.deals);
}

export function crmRouter(svc: Services): Router {
  const crm = svc.crm;
  const r = Router();
  const urlSecret = (req: Request) => String(req.params.secret);
  const admin = adminGate(crm.options.adminToken);
  const status = new CrmStatus(svc.redis, svc.ingest.metrics, svc.log);
  r.use(['/crm/amocrm', '/crm/zoho', '/crm/import'], (_req, res, next) => {
    res.locals.crmStatus = status;
    next();
  });
  // The configuration check at start: statuses seen in earlier deliveries that the mapping leaves out.
  status.configWarnings(crm.config).then(
    (warnings) => warnings.forEach((w) => svc.log.warn({ warning: w }, 'CRM configuration: a status seen in deliveries maps to no stage')),
    (err: unknown) => svc.log.warn({ err: String(err) }, 'CRM configuration: statuses seen in deliveries not checked'),
  );

  r.post(
    '/crm/amocrm/:source/:secret',
    gatedBody(sourceGate(crm, 'amocrm', urlSecret), '5mb'),
    guarded(svc, async (req, res) => {
      const src = admitted(res, 'amocrm');
      if (/json/.test(req.headers['content-type'] ?? '')) return fail(res, 400, 'not_amocrm', 'amoCRM webhooks are application/x-www-form-urlencoded');
      const body = parseAmoBody(bodyText(req));
      if ('reason' in body) return fail(res, 400, 'not_amocrm', body.reason);
      const wrongId = src.account.id && body.account.id && body.account.id !== src.account.id;
      const wrongSub = src.account.subdomain && body.account.subdomain && body.account.subdomain !== src.account.subdomain;
      const checked = (src.account.id && body.account.id) || (src.account.subdomain && body.account.subdomain);
      if (wrongId || wrongSub || !checked) return fail(res, 403, 'wrong_account', 'account[id] / account[subdomain] is not the connected account');
      const id = String(req.params.source);
      const api = crm.amoApi(id, src);
      const ctx: IngestContext = {
        sourceId: id,
        source: src,
        config: crm.config,
        evidence: 'crm',
        fetchDeal: api
          ? async (dealId) => {
              const lead = await api.getLead(dealId);
              return lead ? leadFromApi(lead) : null;
            }
          : undefined,
      };
      answer(res, await crm.ingest.apply(ctx, body.changes.deals, body.changes.contacts, body.changes.refused), body.changes.deals, body.changes.ignored);
    }),
  );

  r.get(
    '/crm/amocrm/:source/oauth',
    admit(sourceGate(crm, 'amocrm', (req) => String(req.query.state ?? ''))),
    guarded(svc, async (req, res) => {
      const src = admitted(res, 'amocrm');
      const api = crm.amoApi(String(req.params.source), src);
      if (!api) return fail(res, 409, 'no_api_credentials', 'add api.clientId, clientSecret and redirectUri to the source');
      if (typeof req.query.code !== 'string' || !req.query.code) return fail(res, 400, 'no_code');
      await api.exchangeCode(req.query.code);
      res.status(200).type('text/plain').send('amoCRM is connected to Throughline.\n');
    }),
  );

  r.post(
    '/crm/zoho/:source/notify',
    // The token is in the body: only the source is known before it, and the body is small.
    gatedBody(sourceGate(crm, 'zoho', undefined, 'bad_token'), '256kb'),
    guarded(svc, async (req, res) => {
      const src = admitted(res, 'zoho');
      let body: { ids?: unknown; operation?: unknown; module?: unknown; token?: unknown; server_time?: unknown };
      try {
        body = parseCrmJson(bodyText(req)) as typeof body;
      } catch {
        return fail(res, 400, 'not_zoho_notification', 'the body is not JSON');
      }
      if (!sameSecret(typeof body.token === 'string' ? body.token : undefined, src.notificationToken)) return fail(res, 401, 'bad_token');
      if (!Array.isArray(body.ids) || !body.ids.length) return fail(res, 400, 'not_zoho_notification', 'ids must be a list of record ids');
      if (body.module !== 'Deals' && body.module !== 'Leads') return answer(res, emptyResult(), [], body.ids.length);
      const module: ZohoModule = body.module;
      const id = String(req.params.source);
      const api = crm.zohoApi(id, src);
      const delivery = new ZohoDelivery(module, id, src, crm.config, api);
      // An id that is not one is refused alone; the others are read.
      const ids: string[] = [];
      for (const [i, x] of (body.ids as unknown[]).entries()) {
        if ((typeof x === 'string' || typeof x === 'number') && /^\d{1,20}$/.test(String(x))) ids.push(String(x));
        else delivery.refused.push({ record: `ids[${i}]`, reason: 'not a record id' });
      }
      if (body.operation === 'delete') {
        for (const recordId of ids) delivery.deleted(recordId, body.server_time);
      } else {
        if (!api) return fail(res, 409, 'no_api_credentials', 'a Notifications API source needs api credentials to read records');
        const action = body.operation === 'insert' ? 'add' : 'update';
        for (const recordId of ids) {
          const record = await api.getRecord(module, recordId);
          if (record) await delivery.add(record, action, recordId, 'as read from Zoho: ');
        }
      }
      await answerZoho(crm, res, delivery);
    }),
  );

  r.post(
    '/crm/zoho/:source/watch',
    admit(admin),
    guarded(svc, async (req, res) => {
      const id = String(req.params.source);
      // The admin knows the source names: a missing one is named.
      if (crm.config.raw.sources[id]?.kind !== 'zoho') return fail(res, 404, 'unknown_source', `no zoho source "${id}" is configured`);
      try {
        const expiresAt = await crm.renewZohoWatch(String(req.params.source));
        res.status(200).json({ channel_expiry: expiresAt.toISOString() });
      } catch (err) {
        if (err instanceof ApiError) throw err;
        fail(res, 409, 'no_watch', (err as Error).message);
      }
    }),
  );

  const zohoWebhook = (module: ZohoModule) =>
    guarded(svc, async (req, res) => {
      const src = admitted(res, 'zoho');
      let body: unknown;
      try {
        body = parseJsonOrForm(req);
      } catch {
        return fail(res, 400, 'not_zoho_deal', 'the body is not JSON');
      }
      const data = (body as { data?: unknown })?.data;
      const records = (Array.isArray(data) ? data : Array.isArray(body) ? body : [body]) as unknown[];
      const id = String(req.params.source);
      const delivery = new ZohoDelivery(module, id, src, crm.config, crm.zohoApi(id, src));
      for (const [i, rec] of records.entries()) {
        const at = `data[${i}]`;
        if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) delivery.refused.push({ record: at, reason: 'not an object' });
        else await delivery.add(rec as Record<string, unknown>, 'update', at);
      }
      await answerZoho(crm, res, delivery);
    });
  r.post('/crm/zoho/:source/:secret', gatedBody(sourceGate(crm, 'zoho', urlSecret), '5mb'), zohoWebhook('Deals'));
  r.post('/crm/zoho/:source/:secret/leads', gatedBody(sourceGate(crm, 'zoho', urlSecret), '5mb'), zohoWebhook('Leads'));

  const importDeals = (csv: boolean) =>
    guarded(svc, async (req, res) => {
      const src = admitted(res, 'import');
      let body: unknown;
      if (csv) {
        const converted = csvToBody(bodyText(req));
        if ('error' in converted) return fail(res, 400, 'bad_csv', converted.error);
        body = converted;
      } else {
        try {
          body = parseCrmJson(bodyText(req));
        } catch {
          return fail(res, 400, 'bad_json', 'the body is not JSON');
        }
      }
      const read = dealsFromBody(body, csv);
      if ('error' in read) return fail(res, 400, csv ? 'bad_csv' : 'bad_deals', read.error);
      const ctx: IngestContext = { sourceId: String(req.params.source), source: src, config: crm.config, evidence: 'import' };
      answer(res, await crm.ingest.apply(ctx, read.deals, [], read.refused), read.deals);
    });
  const importGate = gatedBody(sourceGate(crm, 'import', urlSecret), '5mb');
  r.post('/crm/import/:source/:secret/deals', importGate, importDeals(false));
  r.post('/crm/import/:source/:secret/deals.csv', importGate, importDeals(true));

  r.get('/crm/config', admit(admin), (_req, res) => {
    res.status(200).json(crm.config.raw);
  });
  // What the deliveries could not use, the last deliveries, and the statuses they carried that map to no stage.
  r.get(
    '/crm/status',
    admit(admin),
    guarded(svc, async (_req, res) => {
      res.status(200).json(await status.report(crm.config));
    }),
  );
  r.put(
    '/crm/config',
    gatedBody(admin, '1mb'),
    guarded(svc, async (req, res) => {
      let value: unknown;
      try {
        value = JSON.parse(bodyText(req));
      } catch {
        return fail(res, 400, 'bad_json', 'the body is not JSON');
      }
      const applied = await applyConfig(crm, status, svc.log, value);
      if (!applied.ok) return fail(res, 422, 'invalid_config', applied.message);
      // The body stays the configuration (it can be sent back as it is); the warnings are in a header and in GET /crm/status.
      const n = applied.warnings.length;
      if (n) res.set('Warning', `199 throughline "${n} status${n === 1 ? '' : 'es'} seen in deliveries map${n === 1 ? 's' : ''} to no funnel stage; GET /crm/status lists ${n === 1 ? 'it' : 'them'}"`);
      res.status(200).json(applied.config.raw);
    }),
  );
  // A body the parser refused (too large, bad charset or encoding) is answered by the app's final error handler.
  return r;
}
