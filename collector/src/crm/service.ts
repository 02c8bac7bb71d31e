// The CRM side of a running collector: the configuration in force, the API
// clients of the sources that have credentials, the deal ingest, and the timer
// that renews Zoho notification channels. Created once at start-up.
//
// Several collectors may share one database: each looks every refreshSeconds
// for a configuration newer than its own (one another collector stored, or the
// CRM_CONFIG file changed on disk) and puts it in force, so a change made on one
// is in force on all within that time.
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { AmoApi } from './amocrm/api.js';
import { loadCrmConfig, type AmoSource, type LoadedConfig, type ZohoSource } from './config/schema.js';
import { readConfigFile, readStoredConfig, saveConfig, writeFunnelStages } from './config/store.js';
import { DealIngest, type StoredDeal } from './deals/ingest.js';
import { TokenStore } from './oauth/tokens.js';
import { ZohoApi } from './zoho/api.js';

export type CrmOptions = {
  configPath: string | undefined;
  adminToken: string | undefined;
  inboundEmailSecret: string | undefined;
  identity: { key: string; defaultCountry: string };
  /** Seconds between looks for a newer configuration (CRM_CONFIG_REFRESH_SECONDS); none without. */
  refreshSeconds?: number;
  /** Called after a delivery's deals and links are stored, with the deals written (the collector refreshes attribution, plans outbound messages). */
  afterStore?: (deals: StoredDeal[]) => void;
};

export class Crm {
  private loaded: LoadedConfig = loadCrmConfig({});
  private amoClients = new Map<string, AmoApi>();
  private zohoClients = new Map<string, ZohoApi>();
  private renewTimer: NodeJS.Timeout | null = null;
  /** When the configuration in force was saved (ms): its stored savedAt, or its file's mtime. */
  private inForceAt = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  /** A file that could not be loaded, by its mtime: logged once, not at every look. */
  private fileRefused = 0;
  /** Replacing and refreshing, one at a time: an older configuration never overtakes a newer one. */
  private changing: Promise<unknown> = Promise.resolve();
  readonly tokens: TokenStore;
  readonly ingest: DealIngest;

  constructor(
    readonly ch: ClickHouseClient,
    readonly log: Logger,
    readonly options: CrmOptions,
  ) {
    this.tokens = new TokenStore(ch);
    this.ingest = new DealIngest(ch, log, options.identity, options.afterStore);
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /** Loads the newer of the file and the stored configuration and puts it in force. */
  async start(): Promise<void> {
    const file = this.options.configPath ? await readConfigFile(this.options.configPath) : null;
    const { stored, passedOver } = await readStoredConfig(this.ch);
    for (const p of passedOver) {
      this.log.error({ savedAt: new Date(p.savedAt).toISOString(), reason: p.reason }, 'stored CRM configuration passed over: it cannot be applied');
    }
    const chosen = stored && (!file || stored.savedAt > file.mtime) ? stored : file && { config: file.config, savedAt: file.mtime };
    if (chosen) await this.use(chosen.config);
    else await writeFunnelStages(this.ch, this.loaded);
    this.inForceAt = chosen?.savedAt ?? 0;
    const every = this.options.refreshSeconds;
    if (every) {
      this.refreshTimer = setInterval(() => {
        this.refresh().catch((err: unknown) => this.log.warn({ err: String(err) }, 'CRM configuration not refreshed; tried again later'));
      }, every * 1000);
      this.refreshTimer.unref();
    }
  }

  /** Runs a change of the configuration in force after the ones before it. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changing.catch(() => undefined).then(fn);
    this.changing = run;
    return run;
  }

  /**
   * Puts in force the newer of the stored configuration and the CRM_CONFIG file
   * (as a start chooses) when it is newer than the one in force; true when it
   * did. A file that cannot be loaded (an edit half-saved) leaves the one in
   * force, and is logged once.
   */
  refresh(): Promise<boolean> {
    return this.serially(async () => {
      const path = this.options.configPath;
      const mtime = path ? await stat(path).then((s) => s.mtimeMs, () => 0) : 0;
      let file: { config: LoadedConfig; savedAt: number } | null = null;
      if (path && mtime > this.inForceAt) {
        file = await readConfigFile(path).then(
          (f) => ({ config: f.config, savedAt: f.mtime }),
          (err: unknown) => {
            if (this.fileRefused !== mtime) this.log.error({ reason: (err as Error).message }, 'changed CRM_CONFIG file not applied; the configuration in force stays');
            this.fileRefused = mtime;
            return null;
          },
        );
      }
      const { stored } = await readStoredConfig(this.ch);
      const newest = [stored, file].reduce((a, b) => (b && (!a || b.savedAt > a.savedAt) ? b : a), null);
      if (!newest || newest.savedAt <= this.inForceAt) return false;
      await this.use(newest.config);
      this.inForceAt = newest.savedAt;
      this.log.info({ savedAt: new Date(newest.savedAt).toISOString(), from: newest === file ? 'file' : 'stored' }, 'newer CRM configuration put in force');
      return true;
    });
  }

  /**
   * Replaces the configuration (admin API): validated in full before anything is
   * stored, then stored durably, then in force. "In full" includes what a start
   * will do with the stored copy: read back from its JSON and loaded again.
   */
  replace(value: unknown): Promise<LoadedConfig> {
    return this.serially(async () => {
      const next = loadCrmConfig(value);
      loadCrmConfig(JSON.parse(JSON.stringify(next.raw)));
      const at = Date.now();
      await saveConfig(this.ch, next, at);
      await this.use(next);
      this.inForceAt = at;
      return next;
    });
  }

  private async use(next: LoadedConfig): Promise<void> {
    await writeFunnelStages(this.ch, next);
    this.loaded = next;
    this.amoClients.clear();
    this.zohoClients.clear();
    this.scheduleRenewals();
    this.log.info({ stages: next.funnel.stages.length, sources: Object.keys(next.raw.sources) }, 'CRM configuration in force');
  }

  amoApi(id: string, src: AmoSource): AmoApi | null {
    if (!src.api) return null;
    let client = this.amoClients.get(id);
    if (!client) this.amoClients.set(id, (client = new AmoApi(id, src.api, this.tokens)));
    return client;
  }

  zohoApi(id: string, src: ZohoSource): ZohoApi | null {
    if (!src.api) return null;
    let client = this.zohoClients.get(id);
    if (!client) this.zohoClients.set(id, (client = new ZohoApi(id, src.api, this.tokens)));
    return client;
  }

  /** Subscribes (or renews) a Zoho source's notification channel for twice its renewal period. */
  async renewZohoWatch(id: string): Promise<Date> {
    const src = this.loaded.raw.sources[id];
    if (!src || src.kind !== 'zoho' || !src.watch || !src.notificationToken) throw new Error(`source ${id} has no Zoho watch configured`);
    const api = this.zohoApi(id, src)!;
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 2 * src.watch.renewHours * 3_600_000);
    await api.watch(src.watch, src.notificationToken, expiresAt);
    return expiresAt;
  }

  private scheduleRenewals(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const watched = Object.entries(this.loaded.raw.sources).filter(([, s]) => s.kind === 'zoho' && s.watch);
    if (!watched.length) return;
    const renewAll = () => {
      for (const [id] of watched) {
        this.renewZohoWatch(id).catch((err: unknown) => this.log.warn({ source: id, err: String(err) }, 'Zoho channel renewal failed'));
      }
    };
    const hours = Math.min(...watched.map(([, s]) => (s.kind === 'zoho' && s.watch ? s.watch.renewHours : 12)));
    this.renewTimer = setInterval(renewAll, hours * 3_600_000);
    this.renewTimer.unref();
    renewAll();
  }

  close(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }
}
