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
import express, { Router, type Request, type Response } from 'express';
import type { Services } from '../services.js';
import { leadFromApi } from './amocrm/webhook.js';
import { parseAmoBody } from './amocrm/webhook.js';
import { bearer, bodyText, sameSecret } from './auth.js';
import { emptyDeal, type DealChange } from './change.js';
import { CrmConfigError, type SourceConfig } from './config/schema.js';
import type { IngestContext, IngestResult } from './deals/ingest.js';
import { csvToBody, dealFromImport, importBodySchema } from './import/rows.js';
import { ApiError } from './oauth/client.js';
import type { Crm } from './service.js';
import type { ZohoApi } from './zoho/api.js';
import { dealFromZoho, zohoRecordError } from './zoho/record.js';

type Kind = SourceConfig['kind'];

function fail(res: Response, status: number, error: string, reason?: string): void {
  res.status(status).json(reason === undefined ? { error } : { error, reason });
}

/** The source named in the URL, if it is of this kind and the secret matches; otherwise answers. */
function authenticate<K extends Kind>(crm: Crm, req: Request, res: Response, kind: K, secret?: string): Extract<SourceConfig, { kind: K }> | null {
  const id = String(req.params.source);
  const src = crm.config.raw.sources[id];
  if (!src || src.kind !== kind) {
    fail(res, 404, 'unknown_source', `no ${kind} source "${id}" is configured`);
    return null;
  }
  if (secret !== undefined && !sameSecret(secret, src.secret)) {
    fail(res, 401, 'bad_secret');
    return null;
  }
  return src as Extract<SourceConfig, { kind: K }>;
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
      svc.log.error({ err: String(err), url: req.originalUrl.replace(/\/[A-Za-z0-9_-]{16,}(\/|$)/, '/…$1') }, 'CRM request failed');
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
  r.use('/crm', express.text({ type: () => true, limit: '5mb' }));

  r.post(
    '/crm/amocrm/:source/:secret',
    guarded(svc, async (req, res) => {
      const src = authenticate(crm, req, res, 'amocrm', String(req.params.secret));
      if (!src) return;
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
      answer(res, await crm.ingest.apply(ctx, body.changes.deals, body.changes.contacts), body.changes.ignored);
    }),
  );

  r.get(
    '/crm/amocrm/:source/oauth',
    guarded(svc, async (req, res) => {
      const src = authenticate(crm, req, res, 'amocrm', String(req.query.state ?? ''));
      if (!src) return;
      const api = crm.amoApi(String(req.params.source), src);
      if (!api) return fail(res, 409, 'no_api_credentials', 'add api.clientId, clientSecret and redirectUri to the source');
      if (typeof req.query.code !== 'string' || !req.query.code) return fail(res, 400, 'no_code');
      await api.exchangeCode(req.query.code);
      res.status(200).type('text/plain').send('amoCRM is connected to Throughline.\n');
    }),
  );

  r.post(
    '/crm/zoho/:source/notify',
    guarded(svc, async (req, res) => {
      const src = authenticate(crm, req, res, 'zoho');
      if (!src) return;
      let body: { ids?: unknown; operation?: unknown; module?: unknown; token?: unknown; server_time?: unknown };
      try {
        body = JSON.parse(bodyText(req));
      } catch {
        return fail(res, 400, 'not_zoho_notification', 'the body is not JSON');
      }
      if (!sameSecret(typeof body.token === 'string' ? body.token : undefined, src.notificationToken)) return fail(res, 401, 'bad_token');
      const ids = Array.isArray(body.ids) ? body.ids.map(String) : [];
      if (!ids.length || !ids.every((x) => /^\d+$/.test(x))) return fail(res, 400, 'not_zoho_notification', 'ids must be a list of record ids');
      if (body.module !== 'Deals') return answer(res, { deals: 0, contacts: 0, links: 0, filtered: 0, repeated: 0, unknown: 0, errors: [] }, ids.length);
      const id = String(req.params.source);
      const api = crm.zohoApi(id, src);
      const ctx: IngestContext = { sourceId: id, source: src, config: crm.config, evidence: 'crm' };
      const changes: DealChange[] = [];
      if (body.operation === 'delete') {
        const at = Math.floor(Number(body.server_time) / 1000) || null;
        for (const dealId of ids) changes.push({ ...emptyDeal(dealId, 'delete'), complete: false, changedAt: at });
      } else {
        if (!api) return fail(res, 409, 'no_api_credentials', 'a Notifications API source needs api credentials to read records');
        const action = body.operation === 'insert' ? 'add' : 'update';
        for (const dealId of ids) {
          const record = await api.getDeal(dealId);
          if (!record || zohoRecordError(record)) continue;
          changes.push(dealFromZoho(record, action, await zohoForecast(api, String(record.Stage), record)));
        }
      }
      answer(res, await crm.ingest.apply(ctx, changes, []));
    }),
  );

  r.post(
    '/crm/zoho/:source/watch',
    guarded(svc, async (req, res) => {
      if (!isAdmin(crm, req, res)) return;
      if (!authenticate(crm, req, res, 'zoho')) return;
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
    guarded(svc, async (req, res) => {
      const src = authenticate(crm, req, res, 'zoho', String(req.params.secret));
      if (!src) return;
      let body: unknown;
      try {
        body = parseJsonOrForm(req);
      } catch {
        return fail(res, 400, 'not_zoho_deal', 'the body is not JSON');
      }
      const data = (body as { data?: unknown })?.data;
      const records = (Array.isArray(data) ? data : Array.isArray(body) ? body : [body]) as unknown[];
      const changes: DealChange[] = [];
      const api = crm.zohoApi(String(req.params.source), src);
      for (const [i, rec] of records.entries()) {
        if (typeof rec !== 'object' || rec === null) return fail(res, 400, 'not_zoho_deal', `record ${i} is not an object`);
        const problem = zohoRecordError(rec as Record<string, unknown>);
        if (problem) return fail(res, 400, 'not_zoho_deal', `record ${i}: ${problem}`);
      }
      for (const rec of records as Record<string, unknown>[]) {
        changes.push(dealFromZoho(rec, 'update', await zohoForecast(api, String(rec.Stage), rec)));
      }
      const ctx: IngestContext = { sourceId: String(req.params.source), source: src, config: crm.config, evidence: 'crm' };
      answer(res, await crm.ingest.apply(ctx, changes, []));
    }),
  );

  const importDeals = (csv: boolean) =>
    guarded(svc, async (req, res) => {
      const src = authenticate(crm, req, res, 'import', String(req.params.secret));
      if (!src) return;
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
      const parsed = importBodySchema.safeParse(body);
      if (!parsed.success) {
        const reason = parsed.error.issues
          .slice(0, 10)
          .map((i) => `${csv && i.path[0] === 'deals' && typeof i.path[1] === 'number' ? `line ${i.path[1] + 2}${i.path.length > 2 ? `.${i.path.slice(2).join('.')}` : ''}` : i.path.join('.')}: ${i.message}`)
          .join('; ');
        return fail(res, 400, csv ? 'bad_csv' : 'bad_deals', reason);
      }
      const ctx: IngestContext = { sourceId: String(req.params.source), source: src, config: crm.config, evidence: 'import' };
      answer(res, await crm.ingest.apply(ctx, parsed.data.deals.map(dealFromImport), []));
    });
  r.post('/crm/import/:source/:secret/deals', importDeals(false));
  r.post('/crm/import/:source/:secret/deals.csv', importDeals(true));

  r.get('/crm/config', (req, res) => {
    if (!isAdmin(crm, req, res)) return;
    res.status(200).json(crm.config.raw);
  });
  r.put(
    '/crm/config',
    guarded(svc, async (req, res) => {
      if (!isAdmin(crm, req, res)) return;
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
  // A body that express.text refused (too large, bad charset): a JSON reason, not an HTML page.
  r.use('/crm', (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (res.headersSent || !err.status) return next(err);
    fail(res, err.status, err.type === 'entity.too.large' ? 'body_too_large' : 'bad_body', err.message);
  });
  return r;
}
