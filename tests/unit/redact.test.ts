// Which parts of a request URL are secrets, decided by where they stand in the
// route (collector/src/http/redact.ts), not by what they look like.
import { describe, expect, it } from 'vitest';
import { maskUrl, scrub, secretsIn } from '../../collector/src/http/redact.js';

describe('URL masking', () => {
  it('masks the :secret segment of every route that has one, whatever its length', () => {
    expect(maskUrl('/crm/amocrm/amo/s3cr3t')).toBe('/crm/amocrm/amo/…');
    expect(maskUrl('/crm/zoho/a-very-long-source-name/short')).toBe('/crm/zoho/a-very-long-source-name/…');
    expect(maskUrl('/crm/import/shop/the_secret_0123456789/deals.csv')).toBe('/crm/import/shop/…/deals.csv');
    expect(maskUrl('/crm/import/shop/the_secret_0123456789/anything/else')).toBe('/crm/import/shop/…/anything/else');
    expect(maskUrl('/inbound-email/x')).toBe('/inbound-email/…');
  });

  it('leaves the fixed words that stand where a secret could (oauth, notify, watch) and other routes as they are', () => {
    expect(maskUrl('/crm/amocrm/amo/oauth?code=abc123&state=s3cr3t&referer=x.amocrm.ru')).toBe('/crm/amocrm/amo/oauth?code=…&state=…&referer=x.amocrm.ru');
    expect(maskUrl('/crm/zoho/zoho/notify')).toBe('/crm/zoho/zoho/notify');
    expect(maskUrl('/crm/zoho/zoho/watch')).toBe('/crm/zoho/zoho/watch');
    expect(maskUrl('/api/reports/channels?model=last&format=csv')).toBe('/api/reports/channels?model=last&format=csv');
  });

  it('masks credentials in any query string', () => {
    expect(maskUrl('/reports?token=reports-token-0123456789&model=first')).toBe('/reports?token=…&model=first');
    expect(maskUrl('/reports?TOKEN=abc&token=def')).toBe('/reports?TOKEN=…&token=…');
  });

  it('gives the secrets as sent and decoded, and scrubs them from an error message', () => {
    const url = '/crm/import/shop/sec%2Fret_0123456789/deals';
    expect(secretsIn(url)).toEqual(['sec%2Fret_0123456789', 'sec/ret_0123456789']);
    expect(scrub("Failed to decode param 'sec%2Fret_0123456789'", secretsIn(url))).toBe("Failed to decode param '…'");
    expect(scrub('a message without them', secretsIn(url))).toBe('a message without them');
  });
});
