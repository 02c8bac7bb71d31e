// The pages the collector serves to people (the reports, the CRM setup): one
// document shell, one escaper, one look. Pages are rendered on the server; the
// little script they use is a file the collector serves (helmet's CSP allows
// scripts from 'self' only, so nothing inline and nothing from a CDN).
import type { Lang } from './lang.js';

/** Text and attribute values into HTML. */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The look every page shares: a calm page of cards, figures in tabular digits
 * (columns of money line up), wide tables scrolling inside their card on a
 * phone, and colours named once (revenue, cost, better, worse).
 */
export const BASE_CSS = `:root{--ink:#1d2430;--muted:#5d6878;--line:#e2e6ee;--bg:#f5f6fa;--card:#fff;--accent:#2857c5;--good:#13795b;--bad:#b3261e;--revenue:#2a9d8f;--cost:#e76f51}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1360px;padding:16px 24px 48px;color:var(--ink);background:var(--bg)}
h1{font-size:26px;line-height:1.25;margin:12px 0 14px}h2{font-size:17px;margin:0 0 10px}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:14px 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin-top:8px;font-variant-numeric:tabular-nums}.scroll>table{min-width:100%}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
thead th{font-size:13px;font-weight:600;color:var(--muted);vertical-align:bottom;white-space:normal;min-width:64px}thead th:first-child{text-align:left}
th[scope=row]{text-align:left;font-weight:500;white-space:normal;min-width:120px;max-width:220px}tr.total{font-weight:bold}tfoot td,tfoot th{border-top:2px solid var(--line)}
form label{margin-right:12px;display:inline-block}
input,select,button{font:inherit;padding:5px 8px;border:1px solid #c5ccd8;border-radius:6px;background:#fff;color:var(--ink)}
button{background:var(--accent);border-color:var(--accent);color:#fff;cursor:pointer;padding:5px 14px}
button.quiet{background:transparent;color:var(--accent)}
pre{background:#17202b;color:#e8edf3;padding:12px 14px;border-radius:8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px}
#signed-in{float:right}p.problem{color:var(--bad)}
@media (max-width:640px){body{padding:10px 12px 32px;font-size:14px}h1{font-size:21px}.card{padding:12px}}`;

export type DocumentOptions = {
  lang: Lang;
  title: string;
  body: string;
  /** CSS of the page, after the base look. */
  css?: string;
  /** Scripts by URL, served by the collector (deferred). */
  scripts?: string[];
};

/** A whole HTML document around a page's body. Its empty icon keeps browsers from asking for /favicon.ico, which the collector answers 404. */
export function htmlDocument(o: DocumentOptions): string {
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
${BASE_CSS}${o.css ? `\n${o.css}` : ''}
</style>${(o.scripts ?? []).map((s) => `\n<script defer src="${esc(s)}"></script>`).join('')}</head><body>
${o.body}
</body></html>`;
}
