// A function's answers remembered per string argument, for the hit path's pure
// verdicts (bot user agents, Content-Type spellings, referrer hosts): real
// traffic repeats a few values many times, and computing them means regular
// expressions or a URL parse. The memory is cleared whenever it fills, so a
// stream of unique values keeps it small instead of growing it.

export function remember<V>(compute: (key: string) => V, size: number): (key: string) => V {
  const answers = new Map<string, V>();
  return (key) => {
    let v = answers.get(key);
    if (v !== undefined || answers.has(key)) return v as V;
    v = compute(key);
    if (answers.size >= size) answers.clear();
    answers.set(key, v);
    return v;
  };
}
