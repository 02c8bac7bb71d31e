// Zoho CRM API client: the OAuth refresh against the data centre's accounts
// server (its answer names the api_domain), reading a deal or a lead back after
// a Notifications API callback, the pick lists of Deals' Stage (with their
// forecast types) and Leads' Lead_Status, and the Notifications API
// subscription (channels expire and are renewed).
import type { ZohoSource } from '../config/schema.js';
import { ApiError, OAuthClient, requestJson } from '../oauth/client.js';
import type { Tokens, TokenStore } from '../oauth/tokens.js';

type ZohoApiConfig = NonNullable<ZohoSource['api']>;
type TokenAnswer = { access_token?: string; api_domain?: string; expires_in?: number; error?: string };

export type ZohoRecord = Record<string, unknown>;
/** The two modules whose records are funnel records: Deals (`Stage`) and Leads (`Lead_Status`). */
export type ZohoModule = 'Deals' | 'Leads';
/** A value of a pick-list field as Zoho's field metadata lists it (a Stage's also has its forecast type). */
export type PickListValue = { actual_value?: string; display_value?: string; forecast_type?: string };

/**
 * How often a stage missing from the Stage pick list may send the client to read
 * the list again: an admin adds closing stages at any time, but a flood of
 * records with a stage Zoho does not have must not become a flood of API calls.
 */
export const STAGE_REREAD_MS = 60_000;

export class ZohoApi extends OAuthClient {
  private forecasts: Map<string, string> | null = null;
  private lastReread = -Infinity;

  constructor(
    sourceId: string,
    private readonly cfg: ZohoApiConfig,
    tokens: TokenStore,
  ) {
    super(sourceId, tokens);
  }

  protected override authorization(accessToken: string): string {
    return `Zoho-oauthtoken ${accessToken}`;
  }

  protected override async refresh(): Promise<Tokens> {
    const form = new URLSearchParams({
      refresh_token: this.cfg.refreshToken,
      client_id: this.cfg.clientId,
      client_secret: this.cfg.clientSecret,
      grant_type: 'refresh_token',
    });
    const res = await requestJson(`${this.cfg.accountsUrl}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = res.body as TokenAnswer | null;
    if (res.status !== 200 || !body?.access_token) {
      throw new ApiError(`Zoho token request failed with ${res.status}${body?.error ? ` (${body.error})` : ''}`, res.status);
    }
    const tokens: Tokens = {
      accessToken: body.access_token,
      refreshToken: this.cfg.refreshToken,
      expiresAt: Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 3600),
      apiDomain: body.api_domain ?? '',
    };
    await this.tokens.save(this.sourceId, tokens);
    return tokens;
  }

  private base(t: Tokens): string {
    const domain = this.cfg.apiDomain ?? t.apiDomain;
    if (!domain) throw new ApiError(`Zoho source ${this.sourceId}: no api domain known`, 500);
    return domain.replace(/\/+$/, '');
  }

  /** The record of a deal or a lead, or null when Zoho no longer has it. */
  async getRecord(module: ZohoModule, id: string): Promise<ZohoRecord | null> {
    const path = `/crm/v7/${module}/${encodeURIComponent(id)}`;
    const res = await this.authorized((t) => `${this.base(t)}${path}`);
    if (res.status === 204 || res.status === 404) return null;
    const data = (res.body as { data?: unknown[] } | null)?.data;
    if (res.status !== 200 || !Array.isArray(data)) throw new ApiError(`Zoho GET ${path} answered ${res.status}`, res.status);
    const record = data[0];
    return typeof record === 'object' && record !== null ? (record as ZohoRecord) : null;
  }

  /**
   * The forecast type (`Open`, `Closed Won`, `Closed Lost`) of a Deals stage.
   * The pick list is read once; a stage missing from it (an admin added it
   * since) makes the client read it again, at most once per STAGE_REREAD_MS.
   */
  async stageForecast(stage: string): Promise<string | undefined> {
    if (!this.forecasts) this.forecasts = await this.readForecasts();
    else if (!this.forecasts.has(stage) && Date.now() - this.lastReread >= STAGE_REREAD_MS) {
      this.lastReread = Date.now();
      this.forecasts = await this.readForecasts();
    }
    return this.forecasts.get(stage);
  }

  private async readForecasts(): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for (const v of await this.pickList('Deals', 'Stage')) {
      if (v.forecast_type) {
        if (v.actual_value) map.set(v.actual_value, v.forecast_type);
        if (v.display_value) map.set(v.display_value, v.forecast_type);
      }
    }
    return map;
  }

  /** The values of a module's pick-list field (Deals' `Stage`, Leads' `Lead_Status`), from the module's field metadata. */
  async pickList(module: ZohoModule, apiName: string): Promise<PickListValue[]> {
    const res = await this.authorized((t) => `${this.base(t)}/crm/v7/settings/fields?module=${module}`);
    const fields = (res.body as { fields?: { api_name?: string; pick_list_values?: unknown }[] } | null)?.fields;
    if (res.status !== 200 || !Array.isArray(fields)) throw new ApiError(`Zoho GET /crm/v7/settings/fields?module=${module} answered ${res.status}`, res.status);
    const values = fields.find((f) => typeof f === 'object' && f !== null && f.api_name === apiName)?.pick_list_values;
    const text = (x: unknown) => (typeof x === 'string' ? x : undefined);
    return (Array.isArray(values) ? (values as Record<string, unknown>[]) : [])
      .filter((v) => typeof v === 'object' && v !== null)
      .map((v) => ({ actual_value: text(v.actual_value), display_value: text(v.display_value), forecast_type: text(v.forecast_type) }));
  }

  /** Subscribes (or renews) the channel that sends every Deals and Leads change to notifyUrl. */
  async watch(w: { channelId: string; notifyUrl: string }, token: string, expiresAt: Date): Promise<void> {
    const body = {
      watch: [
        {
          channel_id: w.channelId,
          events: ['Deals.all', 'Leads.all'],
          channel_expiry: expiresAt.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
          token,
          notify_url: w.notifyUrl,
          return_affected_field_values: true,
        },
      ],
    };
    const res = await this.authorized((t) => `${this.base(t)}/crm/v7/actions/watch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const status = (res.body as { watch?: { status?: string }[] } | null)?.watch?.[0]?.status;
    if (res.status !== 200 || status !== 'success') throw new ApiError(`Zoho watch answered ${res.status} ${status ?? ''}`.trim(), res.status);
  }
}
