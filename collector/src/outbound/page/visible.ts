// Text the outbox page shows that came from elsewhere: a vendor's answer, a
// deal's id from a CRM. It may hold anything, so before it is escaped it is made
// visible and short. A control character (a newline, a bell, an escape
// sequence's ESC), a character that reorders or hides text (a right-to-left
// override, a zero-width space) and a lone surrogate are each shown as their
// escape, `\n`, `\u0007`, `\u202E`, `\uD800`, instead of acting on the page,
// vanishing, or making a name pose as another. Escapes are plain ASCII, which
// every font has (control pictures such as ␇ are missing from many), and the
// page marks them apart from the text (render.ts), so an escape told from a
// backslash the text itself holds. Text is cut by characters (code points, so
// a pair is never split).

/** A run of the text as it is, or one character shown as its escape. */
export type Piece = { text: string; escaped: boolean };

/** The C0 controls, DEL and the C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Direction marks, embeddings, overrides and isolates; zero-width and invisible characters; line and paragraph separators. */
const INVISIBLE = /[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb]/;
const LONE = /^[\ud800-\udfff]$/;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escapeOf = (c: string) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
const hidden = (c: string) => CONTROL.test(c) || INVISIBLE.test(c) || LONE.test(c);

/** `s` cut to `max` characters, as pieces; `cut` is how many characters were left off. */
export function shown(s: string, max: number): { pieces: Piece[]; cut: number } {
  const pieces: Piece[] = [];
  let n = 0;
  let cut = 0;
  // for…of walks code points: a pair stays whole, a lone surrogate comes alone.
  for (const c of s) {
    if (n++ >= max) {
      cut++;
      continue;
    }
    const last = pieces.at(-1);
    if (hidden(c)) pieces.push({ text: escapeOf(c), escaped: true });
    else if (last && !last.escaped) last.text += c;
    else pieces.push({ text: c, escaped: false });
  }
  return { pieces, cut };
}

/** `s` with every control and invisible character shown as its escape (where text cannot be marked, as in a sentence). */
export function visible(s: string, max = Infinity): string {
  const { pieces, cut } = shown(s, max);
  return `${pieces.map((p) => p.text).join('')}${cut ? '…' : ''}`;
}
