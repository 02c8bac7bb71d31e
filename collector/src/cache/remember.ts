// A function's answers remembered per string argument, for the hit path's pure
// verdicts (bot user agents, Content-Type spellings, referrer hosts, page
// origins): real traffic repeats a few values many times, and computing them
// means regular expressions or a URL parse. The memory is cleared whenever it
// fills, so a stream of unique values keeps it small instead of growing it.
// The last answer is checked first: consecutive hits often carry the same value
// (a browser's pages, one site's origin), and comparing two strings is cheaper
// than hashing one for the map.

export function remember<V>(compute: (key: string) => V, size: number): (key: string) => V {
  const answers = new Map<string, V>();
  let lastKey: string | undefined;
  let lastValue: V;
  return (key) => {
    if (key === lastKey) return lastValue;
    let v = answers.get(key);
    if (v === undefined && !answers.has(key)) {
      v = compute(key);
      if (answers.size >= size) answers.clear();
      answers.set(key, v);
    }
    lastKey = key;
    lastValue = v as V;
    return v as V;
  };
}
