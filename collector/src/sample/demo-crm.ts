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
  /** Where a visit to the prices page moves an open deal (the site-visit trigger). */
  proposal: '61000003',
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

/**
 * The sources' secrets; with `amoApi`, the amoCRM source reaches the demo site's
 * stand-in of amoCRM's API (demo-site/vendors.ts) with that token, and a visit to
 * the prices page moves an open deal of the visitor to "3 Proposal" (a site-visit
 * trigger, README "Sending outcomes back").
 */
export type DemoSecrets = { amoSecret: string; importSecret: string; amoApi?: { baseUrl: string; token: string; site: string } };

/** The page whose visit moves an open deal forward. */
export const DEMO_TRIGGER_PAGE = '/prices.html';

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
        ...(s.amoApi && {
          // A long-lived token: the stand-in has no OAuth exchange to offer.
          api: { baseUrl: s.amoApi.baseUrl, clientId: 'throughline-demo', clientSecret: 'demo', redirectUri: `${s.amoApi.site}/`, accessToken: s.amoApi.token },
          visitTriggers: [{ page: DEMO_TRIGGER_PAGE, pipeline: DEMO_AMO.pipeline, status: DEMO_AMO.proposal }],
        }),
      },
      [DEMO_IMPORT.source]: { kind: 'import', secret: s.importSecret, pipelines: { '*': DEMO_IMPORT.statuses } },
    },
  };
}

// Run directly (scripts/demo.sh): the configuration on stdout. With AMO_TOKEN and
// DEMO_SITE (the demo site as the collector reaches it), the amoCRM API stand-in and the trigger.
if (import.meta.url === `file://${process.argv[1]}`) {
  const amoSecret = process.env.AMO_SECRET ?? '';
  const importSecret = process.env.IMPORT_SECRET ?? '';
  if (!amoSecret || !importSecret) {
    process.stderr.write('demo-crm: set AMO_SECRET and IMPORT_SECRET\n');
    process.exit(64);
  }
  const token = process.env.AMO_TOKEN;
  const site = process.env.DEMO_SITE;
  const amoApi = token && site ? { baseUrl: `${site}/stand-in/amocrm`, token, site } : undefined;
  process.stdout.write(`${JSON.stringify(demoCrmConfig({ amoSecret, importSecret, amoApi }), null, 2)}\n`);
}
