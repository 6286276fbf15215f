/** An item of an {@link IndexedMinHeap}: the heap keeps its position here (`-1` while outside the heap). */
export interface HeapPosition {
  heapIndex: number;
}

/**
 * A binary min-heap whose items know their own position, so that one item can be removed or re-ordered
 * after its key changed in O(log n) — what the scheduler needs for the heads of its per-user lines, whose
 * keys move every time a user's oldest request is granted, cancelled or expires.
 *
 * @example
 * const heap = new IndexedMinHeap<{ key: number; heapIndex: number }>((a, b) => a.key - b.key);
 * const a = { key: 5, heapIndex: -1 };
 * heap.push(a);
 * a.key = 9;
 * heap.update(a);
 * heap.remove(a);
 */
export class IndexedMinHeap<T extends HeapPosition> {
  private readonly items: T[] = [];

  /** @param compare negative when `a` comes first. */
  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of items. */
  get size(): number {
    return this.items.length;
  }

  /** The item that sorts first, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item that is not in the heap, in O(log n). */
  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Removes an item of this heap in O(log n); an item outside it is ignored. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(this.up(i));
  }

  /** Restores order after the key of an item of this heap changed, in O(log n). */
  update(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    this.down(this.up(i));
  }

  /**
   * Visits items in heap order, smallest first, until `visit` returns `false`, without changing the heap.
   * Visiting k items costs O(k log k) whatever the heap's size. The visitor must not change the heap.
   */
  visitInOrder(visit: (item: T) => boolean): void {
    if (this.items.length === 0) return;
    const frontier: number[] = [0];
    const before = (a: number, b: number): boolean => this.compare(this.items[a] as T, this.items[b] as T) < 0;
    while (frontier.length > 0) {
      const index = popSmallest(frontier, before);
      if (!visit(this.items[index] as T)) return;
      const left = 2 * index + 1;
      if (left < this.items.length) pushIndex(frontier, left, before);
      if (left + 1 < this.items.length) pushIndex(frontier, left + 1, before);
    }
  }

  private less(a: number, b: number): boolean {
    return this.compare(this.items[a] as T, this.items[b] as T) < 0;
  }

  private swap(a: number, b: number): void {
    const x = this.items[a] as T;
    const y = this.items[b] as T;
    this.items[a] = y;
    this.items[b] = x;
    y.heapIndex = a;
    x.heapIndex = b;
  }

  private up(start: number): number {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return i;
      this.swap(parent, i);
      i = parent;
    }
    return i;
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

/** A binary heap of indexes for {@link IndexedMinHeap.visitInOrder}'s frontier. */
function pushIndex(heap: number[], value: number, before: (a: number, b: number) => boolean): void {
  heap.push(value);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i] as number, heap[parent] as number)) return;
    [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
    i = parent;
  }
}

function popSmallest(heap: number[], before: (a: number, b: number) => boolean): number {
  const top = heap[0] as number;
  const last = heap.pop() as number;
  if (heap.length === 0) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < heap.length && before(heap[left] as number, heap[smallest] as number)) smallest = left;
    if (right < heap.length && before(heap[right] as number, heap[smallest] as number)) smallest = right;
    if (smallest === i) return top;
    [heap[i], heap[smallest]] = [heap[smallest] as number, heap[i] as number];
    i = smallest;
  }
}
