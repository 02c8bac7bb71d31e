// A header a page over plain HTTP goes without. helmet sets
// Cross-Origin-Opener-Policy on every answer; a browser honours it only on a
// potentially trustworthy origin (HTTPS, localhost) and, on a plain-HTTP host
// name, where the collector's pages are often opened (an intranet, a test
// stand), ignores it with an error in the page's console. So it is sent over
// HTTPS only (directly, or as a proxy of TRUSTED_PROXIES says).
import type { RequestHandler } from 'express';
import { forwarded } from '../http/forwarded.js';

export function pageHeaders(trustedProxies: string[]): RequestHandler {
  const { secure } = forwarded(trustedProxies);
  return (req, res, next) => {
    if (!secure(req)) res.removeHeader('Cross-Origin-Opener-Policy');
    next();
  };
}
