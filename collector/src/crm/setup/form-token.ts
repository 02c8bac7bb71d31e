// The setup form's token: a MAC of the browser's session cookie, keyed by the
// admin token. The page carries it in a hidden field, and a save signed in by
// the cookie must bring it back. Another site can make a browser post the form
// but cannot read the page, so it cannot know the token (SameSite=Strict keeps
// the cookie from its requests as well; this holds where SameSite does not, and
// needs no trust in Origin headers a proxy may rewrite).
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../../http/auth.js';
import { cookieValue } from '../../http/forwarded.js';
import { SESSIONS } from '../../http/session.js';

const LABEL = 'throughline crm setup form';

/** The token of the request's session; '' when it carries no session cookie. */
export function formToken(req: IncomingMessage, adminToken: string): string {
  const cookie = cookieValue(req.headers.cookie, SESSIONS.crmSetup.cookie);
  return cookie ? createHmac('sha256', adminToken).update(`${LABEL}\n${cookie}`).digest('base64url') : '';
}

/** Whether `given` (the form's field) is the token of the request's session. */
export function formTokenMatches(req: IncomingMessage, adminToken: string, given: string | null): boolean {
  const expected = formToken(req, adminToken);
  return expected !== '' && sameSecret(given ?? undefined, expected);
}
