// Connected components over typed ids (kind + value): the identity graph merges
// every id that some evidence says belongs to one person. Path halving and union
// by size keep it near-linear. Ids are kept in one map per kind, keyed by the raw
// value: building `kind:value` strings for a million ids cost more than the merging.
export class UnionFind {
  private readonly index = new Map<string, Map<string, number>>();
  private readonly parent: number[] = [];
  private readonly size: number[] = [];
  readonly kinds: string[] = [];
  readonly values: string[] = [];

  /** The number of an id, adding it as its own component when new. */
  id(kind: string, value: string): number {
    let byKind = this.index.get(kind);
    if (!byKind) this.index.set(kind, (byKind = new Map()));
    let i = byKind.get(value);
    if (i === undefined) {
      i = this.parent.length;
      byKind.set(value, i);
      this.parent.push(i);
      this.size.push(1);
      this.kinds.push(kind);
      this.values.push(value);
    }
    return i;
  }

  find(i: number): number {
    const p = this.parent;
    while (p[i]! !== i) {
      p[i] = p[p[i]!]!;
      i = p[i]!;
    }
    return i;
  }

  /** Merges the components of two known id numbers. */
  union(a: number, b: number): void {
    let x = this.find(a);
    let y = this.find(b);
    if (x === y) return;
    if (this.size[x]! < this.size[y]!) [x, y] = [y, x];
    this.parent[y] = x;
    this.size[x]! += this.size[y]!;
  }

  get count(): number {
    return this.parent.length;
  }
}
