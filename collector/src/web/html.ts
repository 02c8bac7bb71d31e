// The pages the collector serves to people (the reports, the CRM setup): one
// document shell, one escaper, one look. Pages are rendered on the server; the
// little script they use is a file the collector serves (helmet's CSP allows
// scripts from 'self' only, so nothing inline and nothing from a CDN).
import type { Lang } from './lang.js';

/** Text and attribute values into HTML. */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const BASE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-top:16px}th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th[scope=row]{text-align:left}tr.total{font-weight:bold}form label{margin-right:12px}#signed-in{float:right}p.problem{color:#b00020}`;

export type DocumentOptions = {
  lang: Lang;
  title: string;
  body: string;
  /** CSS of the page, after the base look. */
  css?: string;
  /** Scripts by URL, served by the collector (deferred). */
  scripts?: string[];
};

/** A whole HTML document around a page's body. */
export function htmlDocument(o: DocumentOptions): string {
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
${BASE_CSS}${o.css ? `\n${o.css}` : ''}
</style>${(o.scripts ?? []).map((s) => `\n<script defer src="${esc(s)}"></script>`).join('')}</head><body>
${o.body}
</body></html>`;
}
