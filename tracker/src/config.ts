// Everything a site can configure, read once from the data- attributes of the
// tracker's own <script> tag. The collector's address is where the script came
// from, so the snippet never names it twice. (A tuple rather than an object:
// its parts become one-letter local names in the minified tracker.)
export type Config = [
  /** Collector base URL, ending with '/'. */
  base: string,
  /** data-site; the page's host name when absent. */
  site: string,
  /** data-mailto: 'subject' (default), 'plus' or 'off'. */
  mailto: string,
  /** data-ga-cookie: the cookie holding the GA client id. */
  gaCookie: string,
  /** data-days: lifetime of the first and last touch, in days (90). */
  days: number,
  /** data-dnt present: honour Do-Not-Track and Global Privacy Control. */
  dnt: boolean,
  /** data-consent="wait": do nothing until throughline('consent'). */
  wait: boolean,
  /** data-field-<default name>: the name a hidden form field gets ('' = leave out). */
  field: (name: string) => string,
];

export function readConfig(script: HTMLScriptElement, hostname: string): Config {
  const a = (name: string) => script.getAttribute('data-' + name);
  return [
    new URL('.', script.src).href,
    a('site') || hostname,
    a('mailto') || 'subject',
    a('ga-cookie') || '_ga',
    +a('days')! || 90,
    a('dnt') != null,
    a('consent') == 'wait',
    (name) => a('field-' + name) ?? name,
  ];
}
