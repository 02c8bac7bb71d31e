// The addresses a CRM is told to post to, per source, as crm/routes.ts serves
// them: built on the origin the admin's browser used (http/forwarded.ts: its
// host and scheme believed from TRUSTED_PROXIES only), port included, so what
// the page shows is what answers.
import type { SourceConfig } from '../config/schema.js';

export type WebhookKind = 'amocrm' | 'zohoDeals' | 'zohoLeads' | 'zohoNotify' | 'importJson' | 'importCsv';
export type Webhook = { kind: WebhookKind; url: string };

/** Stands in for the collector's address when the request named no usable host. */
export const UNKNOWN_ORIGIN = 'https://<collector>';

export function webhookUrls(origin: string, id: string, src: SourceConfig): Webhook[] {
  const base = origin || UNKNOWN_ORIGIN;
  const source = encodeURIComponent(id);
  const secret = encodeURIComponent(src.secret);
  switch (src.kind) {
    case 'amocrm':
      return [{ kind: 'amocrm', url: `${base}/crm/amocrm/${source}/${secret}` }];
    case 'zoho':
      return [
        { kind: 'zohoDeals', url: `${base}/crm/zoho/${source}/${secret}` },
        { kind: 'zohoLeads', url: `${base}/crm/zoho/${source}/${secret}/leads` },
        { kind: 'zohoNotify', url: `${base}/crm/zoho/${source}/notify` },
      ];
    case 'import':
      return [
        { kind: 'importJson', url: `${base}/crm/import/${source}/${secret}/deals` },
        { kind: 'importCsv', url: `${base}/crm/import/${source}/${secret}/deals.csv` },
      ];
  }
}
