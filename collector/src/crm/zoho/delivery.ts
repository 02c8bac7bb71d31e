// One Zoho delivery (a workflow webhook or a Notifications API callback) of one
// module, Deals or Leads, turned into changes for the deal ingest: each record
// is read alone, refused alone with its reason, and the stages Throughline
// cannot place are named in the reply.
import { emptyDeal, toUnixSeconds, type ContactChange, type DealChange, type Refusal } from '../change.js';
import type { LoadedConfig, ZohoSource } from '../config/schema.js';
import { recordName } from '../deals/check.js';
import type { IngestContext } from '../deals/ingest.js';
import type { ZohoApi, ZohoModule } from './api.js';
import { dealFromZoho, LEADS_PIPELINE, leadDealId, leadFromZoho, zohoRecordError } from './record.js';
import { readStage } from './stages.js';

export class ZohoDelivery {
  readonly deals: DealChange[] = [];
  readonly contacts: ContactChange[] = [];
  readonly refused: Refusal[] = [];
  readonly warnings: Refusal[] = [];

  constructor(
    private readonly module: ZohoModule,
    private readonly sourceId: string,
    private readonly source: ZohoSource,
    private readonly config: LoadedConfig,
    private readonly api: ZohoApi | null,
  ) {}

  /** The ingest context of this module: leads map their Lead_Status through `leadStatuses`, as the pipeline `Leads`. */
  context(): IngestContext {
    const source = this.module === 'Leads' ? { ...this.source, pipelines: { [LEADS_PIPELINE]: this.source.leadStatuses } } : this.source;
    return { sourceId: this.sourceId, source, config: this.config, evidence: 'crm' };
  }

  /** A record as posted or as read back; `at` names it when its id cannot (`data[2]`, or the id asked for). */
  async add(record: Record<string, unknown>, action: 'add' | 'update', at: string, prefix = ''): Promise<void> {
    if (this.module === 'Leads') {
      const lead = leadFromZoho(record, action);
      if ('reason' in lead) return void this.refused.push({ record: at, reason: prefix + lead.reason });
      this.deals.push({ ...lead.change, at });
      // The deal a lead became is tied to the lead's person: it is attributed through the lead's ids.
      if (lead.conversion) this.contacts.push({ contactId: lead.conversion.personId, at, emails: [], phones: [], dealIds: [lead.conversion.dealId] });
      return;
    }
    const problem = zohoRecordError(record);
    if (problem) return void this.refused.push({ record: at, reason: prefix + problem });
    const stage = await readStage(this.api, this.source, this.config.funnel, record);
    const deal = { ...dealFromZoho(record, action, stage.forecastType), at };
    if (stage.warning) this.warnings.push({ record: recordName(deal.dealId, at), reason: stage.warning });
    this.deals.push(deal);
  }

  /** A delete notification: it carries only the ids. */
  deleted(recordId: string, serverTime: unknown): void {
    const id = this.module === 'Leads' ? leadDealId(recordId) : recordId;
    this.deals.push({ ...emptyDeal(id, 'delete'), complete: false, changedAt: toUnixSeconds(serverTime) });
  }
}
