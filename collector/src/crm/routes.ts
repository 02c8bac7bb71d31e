// HTTP routes of the CRM side. Every webhook is answered only after its rows
// are in ClickHouse, so a CRM that sees an error sends it again; a repeated
// delivery folds into the same versions.
//
//   POST /crm/amocrm/:source/:secret          amoCRM webhook (form, bracket notation)
//   GET  /crm/amocrm/:source/oauth            amoCRM OAuth redirect (?code=…&state=<secret>)
//   POST /crm/zoho/:source/notify             Zoho Notifications API callback (token checked)
//   POST /crm/zoho/:source/watch              (admin) subscribe / renew the Zoho channel
//   POST /crm/zoho/:source/:secret            Zoho workflow webhook (JSON or form)
//   POST /crm/import/:source/:secret/deals    any CRM: JSON {deals:[…]}
//   POST /crm/import/:source/:secret/deals.csv any CRM: CSV with a header row
//   GET|PUT /crm/config                       (admin) the CRM configuration
//
// Every route checks its sender (the URL secret, the admin token, the source)
// before it reads a byte of the body (auth.ts, gatedBody).
import { Router, type Request, type Response } from 'express';
import type { Services } from '../services.js';
import { leadFromApi } from './amocrm/webhook.js';
import { parseAmoBody } from './amocrm/webhook.js';
import { admit, bearer, bodyText, gatedBody, sameSecret, type Gate } from './auth.js';
import { emptyDeal, toUnixSeconds, type DealChange, type Refusal } from './change.js';
import { CrmConfigError, type SourceConfig } from './config/schema.js';
import { emptyResult, type IngestContext, type IngestResult } from './deals/ingest.js';
import { csvToBody, dealsFromBody } from './import/rows.js';
import { ApiError } from './oauth/client.js';
import type { Crm } from './service.js';
import { requestLog } from '../http/redact.js';
import type { ZohoApi } from './zoho/api.js';
import { dealFromZoho, zohoRecordError } from './zoho/record.js';

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
    return true;
  };
}

/** The source a sourceGate admitted. */
function admitted<K extends Kind>(res: Response, _kind: K): Extract<SourceConfig, { kind: K }> {
  return res.locals.source as Extract<SourceConfig, { kind: K }>;
}

function isAdmin(crm: Crm, req: Request, res: Response): boolean {
  if (!crm.options.adminToken) {
    fail(res, 403, 'admin_api_disabled', 'set CRM_ADMIN_TOKEN to use the admin API');
    return false;
  }
  if (!sameSecret(bearer(req), crm.options.adminToken)) {
    fail(res, 401, 'bad_admin_token');
    return false;
  }
  return true;
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

function answer(res: Response, r: IngestResult, ignored = 0): void {
  res.status(200).json({ ...r, ignored });
}

function parseJsonOrForm(req: Request): unknown {
  const text = bodyText(req);
  if (/json/.test(req.headers['content-type'] ?? '') || text.trimStart().startsWith('{') || text.trimStart().startsWith('[')) return JSON.parse(text);
  return Object.fromEntries(new URLSearchParams(text));
}

async function zohoForecast(api: ZohoApi | null, stage: string, record: Record<string, unknown>): Promise<string | undefined> {
  if (typeof record.forecast_type === 'string') return record.forecast_type;
  if (api) return (await api.stageForecasts()).get(stage);
  // Without the API, Zoho's own stage names say it.
  return stage;
}

export function crmRouter(svc: Services): Router {
  const crm = svc.crm;
  const r = Router();
  const urlSecret = (req: Request) => String(req.params.secret);
  const admin: Gate = (req, res) => isAdmin(crm, req, res);

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
      answer(res, await crm.ingest.apply(ctx, body.changes.deals, body.changes.contacts, body.changes.refused), body.changes.ignored);
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
        body = JSON.parse(bodyText(req));
      } catch {
        return fail(res, 400, 'not_zoho_notification', 'the body is not JSON');
      }
      if (!sameSecret(typeof body.token === 'string' ? body.token : undefined, src.notificationToken)) return fail(res, 401, 'bad_token');
      if (!Array.isArray(body.ids) || !body.ids.length) return fail(res, 400, 'not_zoho_notification', 'ids must be a list of record ids');
      if (body.module !== 'Deals') return answer(res, emptyResult(), body.ids.length);
      // An id that is not one is refused alone; the others are read.
      const refused: Refusal[] = [];
      const ids: string[] = [];
      for (const [i, x] of (body.ids as unknown[]).entries()) {
        if ((typeof x === 'string' || typeof x === 'number') && /^\d{1,20}$/.test(String(x))) ids.push(String(x));
        else refused.push({ record: `ids[${i}]`, reason: 'not a record id' });
      }
      const id = String(req.params.source);
      const api = crm.zohoApi(id, src);
      const ctx: IngestContext = { sourceId: id, source: src, config: crm.config, evidence: 'crm' };
      const changes: DealChange[] = [];
      if (body.operation === 'delete') {
        const at = toUnixSeconds(body.server_time);
        for (const dealId of ids) changes.push({ ...emptyDeal(dealId, 'delete'), complete: false, changedAt: at });
      } else {
        if (!api) return fail(res, 409, 'no_api_credentials', 'a Notifications API source needs api credentials to read records');
        const action = body.operation === 'insert' ? 'add' : 'update';
        for (const dealId of ids) {
          const record = await api.getDeal(dealId);
          if (!record) continue;
          const problem = zohoRecordError(record);
          if (problem) refused.push({ record: dealId, reason: `as read from Zoho: ${problem}` });
          else changes.push(dealFromZoho(record, action, await zohoForecast(api, String(record.Stage), record)));
        }
      }
      answer(res, await crm.ingest.apply(ctx, changes, [], refused));
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

  r.post(
    '/crm/zoho/:source/:secret',
    gatedBody(sourceGate(crm, 'zoho', urlSecret), '5mb'),
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
      const changes: DealChange[] = [];
      const refused: Refusal[] = [];
      const api = crm.zohoApi(String(req.params.source), src);
      for (const [i, rec] of records.entries()) {
        const at = `data[${i}]`;
        if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
          refused.push({ record: at, reason: 'not an object' });
          continue;
        }
        const record = rec as Record<string, unknown>;
        const problem = zohoRecordError(record);
        if (problem) refused.push({ record: at, reason: problem });
        else changes.push({ ...dealFromZoho(record, 'update', await zohoForecast(api, String(record.Stage), record)), at });
      }
      const ctx: IngestContext = { sourceId: String(req.params.source), source: src, config: crm.config, evidence: 'crm' };
      answer(res, await crm.ingest.apply(ctx, changes, [], refused));
    }),
  );

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
          body = JSON.parse(bodyText(req));
        } catch {
          return fail(res, 400, 'bad_json', 'the body is not JSON');
        }
      }
      const read = dealsFromBody(body, csv);
      if ('error' in read) return fail(res, 400, csv ? 'bad_csv' : 'bad_deals', read.error);
      const ctx: IngestContext = { sourceId: String(req.params.source), source: src, config: crm.config, evidence: 'import' };
      answer(res, await crm.ingest.apply(ctx, read.deals, [], read.refused));
    });
  const importGate = gatedBody(sourceGate(crm, 'import', urlSecret), '5mb');
  r.post('/crm/import/:source/:secret/deals', importGate, importDeals(false));
  r.post('/crm/import/:source/:secret/deals.csv', importGate, importDeals(true));

  r.get('/crm/config', admit(admin), (_req, res) => {
    res.status(200).json(crm.config.raw);
  });
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
      try {
        const next = await crm.replace(value);
        res.status(200).json(next.raw);
      } catch (err) {
        if (err instanceof CrmConfigError) return fail(res, 422, 'invalid_config', err.message);
        throw err;
      }
    }),
  );
  // A body the parser refused (too large, bad charset or encoding) is answered by the app's final error handler.
  return r;
}
