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

type Ids = Record<string, string>;
type Page = {
  jivo_api?: { setUserToken(token: string): void; setCustomData(fields: { key: string; content: string }[]): void };
  carrotquest?: { identify(props: Ids, options: { parseCustomPropsType: boolean }): void };
  amo_forms_params?: { setMeta?(meta: unknown): void };
};

export function chats(x: Inner): void {
  const w = window as Window & Page;
  let done = 0; // 1 Jivo, 2 Carrot quest, 4 amoCRM
  // On the hooks' shared scan, which guards it.
  x.s.push(() => {
    // The ids and the last touch's UTM tags: 8 fields, within Jivo's 10.
    const e = Object.entries(x.v()).filter(([k]) => /^(tl_[vgy]|utm)/.test(k));
    const v = Object.fromEntries(e);
    const { jivo_api: j, carrotquest: c, amo_forms_params: a } = w;
    if (j && !(done & 1)) {
      done |= 1;
      j.setUserToken(v.tl_vid!);
      j.setCustomData(e.map(([key, content]) => ({ key, content })));
    }
    if (c && !(done & 2)) {
      done |= 2;
      // By default Carrot quest types a "numeric" string as a number: the GA
      // and Metrika ids would lose digits. `!w` is false: the minifier turns a
      // literal false into 0, which an API may not take for false.
      c.identify(v, { parseCustomPropsType: !w });
    }
    // The older embed (var amo_forms_params = {id, hash}) has setMeta only
    // once the loader's pixel is ready: until then, the next scan.
    if (a?.setMeta && !(done & 4)) {
      done |= 4;
      // By field code: the UTM tags land in amoCRM's own tracking fields, the
      // ids in the lead fields the owner gives the codes TL_VID, TL_GA, TL_YM.
      a.setMeta({ lead: { custom_fields_values: e.map(([k, value]) => ({ field_code: k.toUpperCase(), values: [{ value }] })) } });
    }
  });
  // An amoCRM form reports a successful submission to the page it sits in (its
  // submit event happens in the vendor's frame): the lead is the form's iframe.
  x.o(w, 'message', (e: MessageEvent) => {
    if (/amoformsSuccessSubmit/.test(e.data)) for (const f of document.querySelectorAll('.amoforms_iframe')) if ((f as HTMLIFrameElement).contentWindow == e.source) x.l(f);
  });
}
