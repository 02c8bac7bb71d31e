// OAuth tokens of CRM sources. Refreshed tokens must survive a restart and Redis
// keeps nothing on disk here, so they live in ClickHouse (crm_oauth_tokens),
// with a copy in memory; the newest version of a source is the one in force.
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { str, toDateTimeString } from '../../clickhouse/sql.js';

export type Tokens = { accessToken: string; refreshToken: string; expiresAt: number; apiDomain: string };

export class TokenStore {
  private readonly cache = new Map<string, Tokens>();

  constructor(private readonly ch: ClickHouseClient) {}

  async get(source: string): Promise<Tokens | null> {
    const hit = this.cache.get(source);
    if (hit) return hit;
    const rs = await this.ch.query({
      query: `SELECT access_token, refresh_token, toUInt32(expires_at) AS expires_at, api_domain FROM crm_oauth_tokens
              WHERE source = ${str(source)} ORDER BY version DESC LIMIT 1`,
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ access_token: string; refresh_token: string; expires_at: number | string; api_domain: string }>();
    if (!row) return null;
    const tokens = { accessToken: row.access_token, refreshToken: row.refresh_token, expiresAt: Number(row.expires_at), apiDomain: row.api_domain };
    this.cache.set(source, tokens);
    return tokens;
  }

  async save(source: string, tokens: Tokens): Promise<void> {
    await this.ch.insert({
      table: 'crm_oauth_tokens',
      values: [
        {
          source,
          access_token: tokens.accessToken,
          refresh_token: tokens.refreshToken,
          expires_at: toDateTimeString(tokens.expiresAt * 1000),
          api_domain: tokens.apiDomain,
          version: Date.now(),
        },
      ],
      format: 'JSONEachRow',
    });
    this.cache.set(source, tokens);
  }
}
