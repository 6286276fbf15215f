/**
 * A binary min-heap ordered by a comparator, used for the scheduler's deadline indexes (waiting TTLs,
 * lease expiries). Removal is lazy: the owner leaves stale items in place and skips them when they surface
 * (`isLive`), and calls {@link MinHeap.compact} when stale items outnumber live ones.
 *
 * @example
 * const deadlines = new MinHeap<{ atMs: number }>((a, b) => a.atMs - b.atMs);
 * deadlines.push({ atMs: 20 });
 * deadlines.push({ atMs: 10 });
 * deadlines.peek(); // { atMs: 10 }
 */
export class MinHeap<T> {
  private items: T[] = [];

  /** @param compare negative when `a` comes first; an item's order must not change while it is stored. */
  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of stored items, stale ones included. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item in O(log n). */
  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** The item that sorts first, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes and returns the item that sorts first in O(log n). */
  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Keeps only the items `keep` accepts and restores heap order in O(n). */
  compact(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i -= 1) this.down(i);
  }

  private less(a: number, b: number): boolean {
    return this.compare(this.items[a] as T, this.items[b] as T) < 0;
  }

  private swap(a: number, b: number): void {
    const x = this.items[a] as T;
    this.items[a] = this.items[b] as T;
    this.items[b] = x;
  }

  private up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(parent, i);
      i = parent;
    }
  }

  private down(start: number): void {
    let i = start;
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.less(left, smallest)) smallest = left;
      if (right < n && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
