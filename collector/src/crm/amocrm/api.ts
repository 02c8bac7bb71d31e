// amoCRM API v4 client: reads a lead back (for deletes and restores, whose
// webhooks carry only the id), lists the pipelines and their statuses (for the
// setup page), moves leads (the site-visit trigger) and keeps the OAuth 2.0
// tokens fresh.
import type { AmoSource } from '../config/schema.js';
import { ApiError, OAuthClient, requestJson } from '../oauth/client.js';
import type { Tokens, TokenStore } from '../oauth/tokens.js';

type AmoApiConfig = NonNullable<AmoSource['api']>;

/** A lead as `GET /api/v4/leads/{id}` returns it (the fields Throughline reads). */
export type AmoApiLead = {
  id: number;
  name?: string;
  price?: number | null;
  status_id?: number;
  pipeline_id?: number;
  created_at?: number;
  updated_at?: number;
  closed_at?: number | null;
  is_deleted?: boolean;
  custom_fields_values?: { field_id: number; field_name?: string; field_code?: string | null; values: { value: unknown; enum_id?: number }[] }[] | null;
  _embedded?: { contacts?: { id: number }[] };
};

/** A pipeline and its statuses, as the setup page lists them (ids as text, as the mapping names them). */
export type AmoPipeline = { id: string; name: string; statuses: { id: string; name: string }[] };

type TokenAnswer = { access_token: string; refresh_token: string; expires_in: number; token_type: string };

export class AmoApi extends OAuthClient {
  constructor(
    sourceId: string,
    private readonly cfg: AmoApiConfig,
    tokens: TokenStore,
  ) {
    super(sourceId, tokens);
  }

  protected override authorization(accessToken: string): string {
    return `Bearer ${accessToken}`;
  }

  protected override initialTokens(): Tokens | null {
    if (!this.cfg.accessToken && !this.cfg.refreshToken) return null;
    // A configured access token is a long-lived one: trust it until the API refuses it.
    const expiresAt = this.cfg.accessToken ? Number.MAX_SAFE_INTEGER : 0;
    return { accessToken: this.cfg.accessToken ?? '', refreshToken: this.cfg.refreshToken ?? '', expiresAt, apiDomain: '' };
  }

  /** Exchanges the code amoCRM sends to the redirect URI for the first tokens. */
  async exchangeCode(code: string): Promise<Tokens> {
    return this.token({ grant_type: 'authorization_code', code });
  }

  protected override async refresh(current: Tokens | null): Promise<Tokens> {
    const refreshToken = current?.refreshToken || this.cfg.refreshToken;
    if (!refreshToken) throw new ApiError(`amoCRM source ${this.sourceId}: no refresh token; connect it through the OAuth redirect`, 401);
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  private async token(grant: Record<string, string>): Promise<Tokens> {
    const res = await requestJson(`${this.cfg.baseUrl}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: this.cfg.clientId, client_secret: this.cfg.clientSecret, ...grant, redirect_uri: this.cfg.redirectUri }),
    });
    const body = res.body as Partial<TokenAnswer> | null;
    if (res.status !== 200 || !body?.access_token || !body.refresh_token) {
      throw new ApiError(`amoCRM token request failed with ${res.status}`, res.status);
    }
    const tokens: Tokens = {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 0),
      apiDomain: '',
    };
    await this.tokens.save(this.sourceId, tokens);
    return tokens;
  }

  /**
   * Moves leads (the site-visit trigger, outbound/trigger): `PATCH /api/v4/leads`
   * with `body`, the JSON array `[{"id", "status_id", "pipeline_id"}]` exactly as
   * the outbox keeps it. amoCRM's answer is given back as it came (status and
   * text): the outbox judges it, this does not.
   */
  async moveLeads(body: string): Promise<{ status: number; text: string }> {
    const res = await this.authorized(() => `${this.cfg.baseUrl}/api/v4/leads`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body });
    return { status: res.status, text: typeof res.body === 'string' ? res.body : res.body === null ? '' : JSON.stringify(res.body) };
  }

  /** The lead, or null when amoCRM no longer has it (204 / 404). */
  async getLead(id: string): Promise<AmoApiLead | null> {
    const res = await this.authorized(() => `${this.cfg.baseUrl}/api/v4/leads/${encodeURIComponent(id)}?with=contacts`);
    if (res.status === 204 || res.status === 404) return null;
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
      throw new ApiError(`amoCRM GET /api/v4/leads/${id} answered ${res.status}`, res.status);
    }
    return res.body as AmoApiLead;
  }

  /**
   * Every pipeline with its statuses, in amoCRM's order: `GET /api/v4/leads/pipelines`
   * answers `_embedded.pipelines[]{id, name, _embedded.statuses[]{id, name, …}}`
   * (142 and 143, won and lost, are in every pipeline).
   */
  async pipelines(): Promise<AmoPipeline[]> {
    const path = '/api/v4/leads/pipelines';
    const res = await this.authorized(() => `${this.cfg.baseUrl}${path}`);
    if (res.status !== 200) throw new ApiError(`amoCRM GET ${path} answered ${res.status}`, res.status);
    const list = (res.body as { _embedded?: { pipelines?: unknown } } | null)?._embedded?.pipelines;
    if (!Array.isArray(list)) throw new ApiError(`amoCRM GET ${path} answered without _embedded.pipelines`, 502);
    const id = (x: unknown) => (typeof x === 'number' || typeof x === 'string' ? String(x) : '');
    const text = (x: unknown) => (typeof x === 'string' ? x : '');
    type Item = { id?: unknown; name?: unknown; _embedded?: { statuses?: unknown } };
    return (list as Item[])
      .filter((p) => typeof p === 'object' && p !== null && id(p.id))
      .map((p) => ({
        id: id(p.id),
        name: text(p.name),
        statuses: (Array.isArray(p._embedded?.statuses) ? (p._embedded.statuses as Item[]) : [])
          .filter((st) => typeof st === 'object' && st !== null && id(st.id))
          .map((st) => ({ id: id(st.id), name: text(st.name) })),
      }));
  }
}
