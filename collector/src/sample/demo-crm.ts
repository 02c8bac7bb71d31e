// The CRM configuration `npm run demo` starts with (CRM_CONFIG, written into its
// data directory): a funnel with its four markers, an amoCRM source shaped like a
// real account (the demo site's thank-you page plays its webhooks) and an import
// source for any other CRM. The sample's deals go through the import statuses,
// so the demo's funnel is the one place their stages are named.
//
// Run directly, it prints the configuration as JSON, with the sources' secrets
// from AMO_SECRET and IMPORT_SECRET: node dist/collector/src/sample/demo-crm.js

/** The demo's funnel, in order, with its markers. */
export const DEMO_FUNNEL = [
  { stage: '1 Request' },
  { stage: '2 Qualified' },
  { stage: '3 Proposal' },
  { stage: 'Paid', marker: 'won' },
  { stage: 'Refused', marker: 'lost' },
  { stage: 'Refund', marker: 'returned' },
  { stage: 'On hold', marker: 'paused' },
] as const;

/**
 * The demo's amoCRM account and its one pipeline. 142 and 143 are amoCRM's own
 * "closed, won" and "closed, lost" in every pipeline; the other status ids are
 * the account's own, as amoCRM numbers them.
 */
export const DEMO_AMO = {
  source: 'amo',
  account: { id: '31415926', subdomain: 'northwind' },
  pipeline: '7012345',
  /** The status a lead from the site's form starts in. */
  firstStatus: '61000001',
  won: '142',
  statuses: {
    '61000001': '1 Request',
    '61000002': '2 Qualified',
    '61000003': '3 Proposal',
    '142': 'Paid',
    '143': 'Refused',
    '61000004': 'Refund',
    '61000005': 'On hold',
  } as Record<string, string>,
};

/** The import source's name and its statuses (any pipeline), which the sample's deals use too. */
export const DEMO_IMPORT = {
  source: 'shop',
  statuses: {
    new: '1 Request',
    qualified: '2 Qualified',
    proposal: '3 Proposal',
    paid: 'Paid',
    refused: 'Refused',
    refunded: 'Refund',
    'on hold': 'On hold',
  } as Record<string, string>,
};

export type DemoSecrets = { amoSecret: string; importSecret: string };

/** The configuration as CRM_CONFIG holds it (README, "Connecting a CRM"). */
export function demoCrmConfig(s: DemoSecrets) {
  return {
    funnel: DEMO_FUNNEL,
    sources: {
      [DEMO_AMO.source]: {
        kind: 'amocrm',
        secret: s.amoSecret,
        account: DEMO_AMO.account,
        pipelines: { [DEMO_AMO.pipeline]: DEMO_AMO.statuses },
      },
      [DEMO_IMPORT.source]: { kind: 'import', secret: s.importSecret, pipelines: { '*': DEMO_IMPORT.statuses } },
    },
  };
}

// Run directly (scripts/demo.sh): the configuration on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const amoSecret = process.env.AMO_SECRET ?? '';
  const importSecret = process.env.IMPORT_SECRET ?? '';
  if (!amoSecret || !importSecret) {
    process.stderr.write('demo-crm: set AMO_SECRET and IMPORT_SECRET\n');
    process.exit(64);
  }
  process.stdout.write(`${JSON.stringify(demoCrmConfig({ amoSecret, importSecret }), null, 2)}\n`);
}
