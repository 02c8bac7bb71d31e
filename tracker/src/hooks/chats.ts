// Platforms with no form of this page to fill: they take the visitor's ids
// through their own JavaScript API, each as its public sources describe it.
// - Jivo (jivo.ru/docs/widget): setUserToken reaches the site's server in every
//   webhook of the chat; setCustomData (at most 10 fields) is shown to the
//   operator and kept in the chat's archive.
// - Carrot quest (developers.carrotquest.io/libs/js/identify): identify() exists
//   from the embed's first line as a queue that the library replays.
// - amoCRM/Kommo site forms: the form lives in a cross-origin iframe; its loader
//   (amoforms.js) posts amo_forms_params.setMeta({lead: {custom_fields_values}})
//   into it, the channel it uses itself for URL tags and GA/Metrika ids, and
//   the only one by which the visitor id can reach the lead.
// Widgets load late, and h.js may have come for another platform first: each
// scan hands the ids to a platform that has appeared, once per page.
import type { Inner } from './inner.js';

/** The widgets' globals, as far as we call them: a method by name. */
type Widgets = Record<string, Record<string, (...args: unknown[]) => void> | undefined>;

export function chats(x: Inner): void {
  const w = window as unknown as Widgets;
  /** The methods already called: each once per page. */
  const done: Record<string, number> = {};
  x.s.push(() => {
    // The ids and the last touch's UTM tags: 8 fields, within Jivo's 10.
    const e = Object.entries(x.v()).filter(([k]) => /^(tl_[vgy]|utm)/.test(k));
    const v = Object.fromEntries(e);
    // Each call made once its method is there (the older amoCRM embed, `var
    // amo_forms_params = {id, hash}`, has setMeta only once the loader's pixel
    // is ready), marked before it is made: a call that throws is not repeated,
    // and the next scan goes on to the calls after it.
    for (const [name, method, ...args] of [
      ['jivo_api', 'setUserToken', v.tl_vid],
      ['jivo_api', 'setCustomData', e.map(([key, content]) => ({ key, content }))],
      // By default Carrot quest types a "numeric" string as a number: the GA
      // and Metrika ids would lose digits. `!w` is false: the minifier turns a
      // literal false into 0, which an API may not take for false.
      ['carrotquest', 'identify', v, { parseCustomPropsType: !w }],
      // By field code: the UTM tags land in amoCRM's own tracking fields, the
      // ids in the lead fields the owner gives the codes TL_VID, TL_GA, TL_YM.
      ['amo_forms_params', 'setMeta', { lead: { custom_fields_values: e.map(([k, value]) => ({ field_code: k.toUpperCase(), values: [{ value }] })) } }],
    ] as [string, string, ...unknown[]][])
      if (w[name]?.[method] && !done[method]) {
        done[method] = 1;
        w[name]![method]!(...args);
      }
  });
  // An amoCRM form reports a successful submission to the page it sits in (its
  // submit event happens in the vendor's frame): the lead is the frame that
  // sent it.
  x.o(window, 'message', (e: MessageEvent) => {
    if (/amoformsSuccessSubmit/.test(e.data)) for (const f of document.querySelectorAll('iframe')) if (f.contentWindow == e.source) x.l(f);
  });
}
