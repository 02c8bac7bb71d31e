// What the amoCRM and Zoho API clients share: a bearer token that is refreshed
// when it is about to expire (or the API says it is invalid), stored, and one
// retry of the request with the new token.
import { parseCrmJson } from '../json.js';
import type { Tokens, TokenStore } from './tokens.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type ApiResponse = { status: number; body: unknown };

const TIMEOUT_MS = 15_000;

export async function requestJson(url: string, init: RequestInit): Promise<ApiResponse> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = parseCrmJson(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body };
}

export abstract class OAuthClient {
  private refreshing: Promise<Tokens> | null = null;

  constructor(
    protected readonly sourceId: string,
    protected readonly tokens: TokenStore,
  ) {}

  /** Gets new tokens from the vendor's token endpoint (and stores them). */
  protected abstract refresh(current: Tokens | null): Promise<Tokens>;
  /** `Bearer x` or `Zoho-oauthtoken x`. */
  protected abstract authorization(accessToken: string): string;
  /** A token configured by hand (a long-lived token), used when nothing is stored. */
  protected initialTokens(): Tokens | null {
    return null;
  }

  protected async currentTokens(): Promise<Tokens> {
    const stored = (await this.tokens.get(this.sourceId)) ?? this.initialTokens();
    if (stored && stored.accessToken && stored.expiresAt > Date.now() / 1000 + 60) return stored;
    return this.refreshOnce(stored);
  }

  /** One refresh at a time: amoCRM's refresh tokens work once, so concurrent requests share it. */
  private refreshOnce(current: Tokens | null): Promise<Tokens> {
    this.refreshing ??= this.refresh(current).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** A request with the access token; on 401 the token is refreshed and the request sent once more. */
  protected async authorized(url: (t: Tokens) => string, init: RequestInit = {}): Promise<ApiResponse> {
    let tokens = await this.currentTokens();
    const send = (t: Tokens) =>
      requestJson(url(t), { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: this.authorization(t.accessToken) } });
    let res = await send(tokens);
    if (res.status === 401) {
      tokens = await this.refreshOnce(tokens);
      res = await send(tokens);
    }
    return res;
  }
}
