// Connected components over string ids: the identity graph merges every id that
// some evidence says belongs to one person. Path halving and union by size keep
// it near-linear: a million links resolve in well under a second.
export class UnionFind {
  private readonly index = new Map<string, number>();
  private readonly parent: number[] = [];
  private readonly size: number[] = [];
  readonly names: string[] = [];

  /** The number of an id, adding it as its own component when new. */
  id(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.parent.length;
      this.index.set(name, i);
      this.parent.push(i);
      this.size.push(1);
      this.names.push(name);
    }
    return i;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  find(i: number): number {
    const p = this.parent;
    while (p[i]! !== i) {
      p[i] = p[p[i]!]!;
      i = p[i]!;
    }
    return i;
  }

  union(a: string, b: string): void {
    let x = this.find(this.id(a));
    let y = this.find(this.id(b));
    if (x === y) return;
    if (this.size[x]! < this.size[y]!) [x, y] = [y, x];
    this.parent[y] = x;
    this.size[x]! += this.size[y]!;
  }

  /** The root of a known id. */
  root(name: string): number {
    return this.find(this.index.get(name)!);
  }
}
