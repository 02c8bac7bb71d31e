// Where the outbox page is: under the CRM setup page's path, so the setup page's
// sign-in, session, language and no-store answers cover it as they cover the
// setup page.
export const OUTBOX_PATH = '/crm/setup/outbox';
export const TRY_AGAIN_PATH = `${OUTBOX_PATH}/try-again`;
