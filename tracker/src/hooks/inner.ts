// What the core tracker (t.js) hands to the files it loads where they are
// needed: the platform hooks (h.js, this folder) and the contact features
// (c.js, tracker/src/contacts/). The core sets it as `throughline.x` before it
// appends either; they use nothing else of the core. The core gives f, l, g, t,
// o and n; hooks/index.ts adds v and hooks/run.ts s, so the core carries none
// of their bytes. Property names are one letter: they survive minification and
// every visitor of such a page downloads them twice.

export type Inner = {
  /**
   * Fills one form (of this page or of a same-origin iframe) by the matching
   * rules: hidden fields the owner placed, found by name, bracketed or prefixed
   * name, id or CSS class, get our values, with `input` and `change` events so
   * builders that keep their own state (React, Vue, HubSpot) see them.
   */
  f(form: HTMLFormElement): void;
  /**
   * Reports a lead for a form (props read from its inputs: e-mail, phone, id,
   * name, action). Calls for the same element within 2 s count once, so a
   * platform that submits by two paths still gives one lead per submission.
   * The mark is the element's `tl` (the time of its last lead): a hook that
   * reports a platform's leads itself, on its success event, claims the
   * element by setting `tl` far ahead, and clears it before it calls `l`
   * (hooks/bitrix24.ts).
   */
  l(form: Element): void;
  /**
   * The values by the hidden fields' default names (contract/fields.ts):
   * tl_vid, tl_ga, tl_ym, tl_landing, tl_referrer, tl_first_landing,
   * tl_first_referrer, utm_source … li_fat_id; empty values left out. Set by
   * h.js (hooks/index.ts) from `g`, so the core carries no second form of them.
   */
  v(): Record<string, string>;
  /** The core's values in the order of `n` ('' or null for none). */
  g(): (string | null)[];
  /** Set once the core has asked for h.js. */
  h?: number;
  /** Set once the core has asked for c.js. */
  c?: number;
  /** The hidden fields' default names (contract/fields.ts HIDDEN_FIELDS), from the core's copy. */
  n: string[];
  /** How a field's value is set; the core writes `.value` until a hook sets this (hooks/events.ts). */
  e?: (el: HTMLInputElement, value: string) => void;
  /** Sends a hit of the core's (the `tel` event: contacts/index.ts). */
  t(kind: 'tel', props: Record<string, string>): void;
  /** The scans of the file that is starting, run three times a second, each guarded (set by hooks/run.ts for each file). */
  s: (() => void)[];
  /** addEventListener with the listener guarded: nothing throws into the page (the core's own). */
  o<E extends Event>(target: EventTarget, type: string, fn: (e: E) => unknown, capture?: boolean): void;
};

/**
 * The global the core defines: the page API. It also carries the hooks' handle,
 * and the calls the core leaves to the hooks (`q`: throughline('ids', …)).
 */
export type PageApi = ((command: string, ...args: unknown[]) => unknown) & { x?: Inner; q?: ArrayLike<unknown>[] };

/** The core's handle, as h.js and c.js read it. */
export const inner = (): Inner => (window as unknown as { throughline: PageApi }).throughline.x!;
