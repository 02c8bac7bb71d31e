// Everything a site can configure: the data- attributes of the tracker's own
// <script> tag, read through its dataset (README lists them). The collector's
// address is where the script came from, so the snippet never names it twice.
export type Config = {
  /** data-site; the page's host name when absent. */
  site?: string;
  /** data-mailto="plus": plus-addressing; absent: the subject tag. */
  mailto?: string;
  /** data-ga-cookie: the cookie holding the GA client id (_ga). */
  gaCookie?: string;
  /** data-days: lifetime of the first and last touch, in days (90). */
  days?: string;
  /** data-dnt present: honour Do-Not-Track and Global Privacy Control. */
  dnt?: string;
  /** data-consent="wait": do nothing until throughline('consent'). */
  consent?: string;
  /** data-<default field name>="<name>": the name that hidden form field gets ('' = leave it out). */
  [field: string]: string | undefined;
};

/** The collector's base URL, ending with '/': where the tracker was loaded from. */
export function collectorBase(src: string): string {
  return new URL('.', src).href;
}
