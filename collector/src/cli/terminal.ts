// Text on its way to a terminal. Names in a report come from public hits, CRM
// deals and uploads; a control character among them (ESC, CSI, BEL, DEL…) would
// be run by the terminal, not shown: cursor moves, a new window title, a cleared
// screen. Bidirectional overrides would show one name as another. Both go.

const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** One cell or message line: every control character removed. */
export function terminalText(s: string): string {
  return s.replace(UNSAFE, '');
}

/** Several lines: the same within each line, the line ends kept. */
export function terminalLines(s: string): string {
  return s.split('\n').map(terminalText).join('\n');
}
