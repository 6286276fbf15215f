/**
 * A first-in-first-out queue with O(1) amortised `push`, head removal and tombstone removal, for the
 * scheduler's per-level waiting lines (10,000+ entries). Items are never spliced out of the middle:
 * the owner marks an item dead (its own `isLive` predicate turns false) and calls {@link FifoQueue.noteRemoved};
 * dead items are skipped on read and the backing array is compacted once dead slots outnumber live ones.
 *
 * Why not `Array.prototype.shift`: it is O(n) on large arrays and the hot path removes from the head.
 *
 * @example
 * const entries = new FifoQueue<{ id: string; live: boolean }>((item) => item.live);
 * entries.push({ id: 'a', live: true });
 * entries.peek(); // { id: 'a', live: true }
 */
export class FifoQueue<T> {
  private items: Array<T | undefined> = [];
  private head = 0;
  private dead = 0;

  /** @param isLive tells whether a stored item is still part of the queue. */
  constructor(private readonly isLive: (item: T) => boolean) {}

  /** Number of live items. */
  get size(): number {
    return this.items.length - this.head - this.dead;
  }

  /** Appends an item at the tail. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Tells the queue that one of its items has turned dead (it stays in place as a tombstone). */
  noteRemoved(): void {
    this.dead += 1;
    this.compactIfSparse();
  }

  /** The oldest live item, or `undefined`; drops tombstones met at the head. */
  peek(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item !== undefined && this.isLive(item)) return item;
      this.items[this.head] = undefined;
      this.head += 1;
      if (this.dead > 0) this.dead -= 1;
    }
    this.reset();
    return undefined;
  }

  /**
   * Visits live items from oldest to newest until `visit` returns `false`.
   * The visitor must not add or remove items.
   */
  scan(visit: (item: T) => boolean): void {
    for (let i = this.head; i < this.items.length; i += 1) {
      const item = this.items[i];
      if (item === undefined || !this.isLive(item)) continue;
      if (!visit(item)) return;
    }
  }

  /** Live items, oldest first (a copy). */
  toArray(): T[] {
    const out: T[] = [];
    this.scan((item) => {
      out.push(item);
      return true;
    });
    return out;
  }

  /** Number of slots held in memory, live or dead (for memory-bound tests). */
  get slotCount(): number {
    return this.items.length - this.head;
  }

  private reset(): void {
    this.items = [];
    this.head = 0;
    this.dead = 0;
  }

  private compactIfSparse(): void {
    const slots = this.items.length - this.head;
    if (slots < 64 || this.dead * 2 <= slots) return;
    const live: T[] = [];
    for (let i = this.head; i < this.items.length; i += 1) {
      const item = this.items[i];
      if (item !== undefined && this.isLive(item)) live.push(item);
    }
    this.items = live;
    this.head = 0;
    this.dead = 0;
  }
}
