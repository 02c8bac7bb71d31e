// Free text from the wire, made fit for a row before it reaches one. A lone
// UTF-16 surrogate (valid in JSON's \u escapes, not in UTF-8) makes ClickHouse
// refuse a whole batch, and control characters mean nothing in what a browser
// sends, so:
//   - text (props, their keys, the user agent): lone surrogates become U+FFFD,
//     C0 and C1 control characters and DEL are removed;
//   - URLs (page, referrer): lone surrogates become U+FFFD, and a URL holding
//     a control character becomes what the WHATWG parser (a browser's address
//     bar) makes of it: tabs and newlines dropped, the ends trimmed, the rest
//     percent-encoded; null when it does not parse.
// Ids are not cleaned here: each has its own rule (identity/ids.ts).
// Both checks are one scan of the string, so clean text (nearly all) costs little.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

export function cleanText(s: string): string {
  const t = s.isWellFormed() ? s : s.toWellFormed();
  return CONTROL.test(t) ? t.replace(CONTROLS, '') : t;
}

export function cleanUrl(s: string): string | null {
  const t = s.isWellFormed() ? s : s.toWellFormed();
  return CONTROL.test(t) ? (URL.parse(t)?.href ?? null) : t;
}
