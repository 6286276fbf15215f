import { describe, expect, it } from 'vitest';
import { IndexedMinHeap } from './indexed-min-heap.js';

interface Item {
  key: number;
  heapIndex: number;
}

const drain = (heap: IndexedMinHeap<Item>): number[] => {
  const out: number[] = [];
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    out.push(top.key);
    heap.remove(top);
  }
  return out;
};

describe('IndexedMinHeap', () => {
  it('keeps order through removals from the middle and keys that change in place', () => {
    const heap = new IndexedMinHeap<Item>((a, b) => a.key - b.key);
    const items = Array.from({ length: 300 }, (_, i) => ({ key: (i * 7919) % 300, heapIndex: -1 }));
    for (const item of items) heap.push(item);
    for (const item of items.filter((x) => x.key % 5 === 0)) heap.remove(item);
    for (const item of items.filter((x) => x.key % 7 === 0 && x.heapIndex >= 0)) {
      item.key += 1_000;
      heap.update(item);
    }
    for (const item of items.filter((x) => x.key % 11 === 0 && x.heapIndex >= 0)) {
      item.key -= 2_000;
      heap.update(item);
    }
    const expected = items
      .filter((x) => x.heapIndex >= 0)
      .map((x) => x.key)
      .sort((a, b) => a - b);
    expect(heap.size).toBe(expected.length);
    expect(drain(heap)).toEqual(expected);
    expect(items.every((x) => x.heapIndex === -1)).toBe(true);
  });

  it('ignores removing an item that is not in the heap', () => {
    const heap = new IndexedMinHeap<Item>((a, b) => a.key - b.key);
    const inside = { key: 1, heapIndex: -1 };
    heap.push(inside);
    heap.remove({ key: 1, heapIndex: 0 });
    heap.remove({ key: 2, heapIndex: -1 });
    expect(heap.size).toBe(1);
    expect(heap.peek()).toBe(inside);
  });

  it('visits items smallest first without changing the heap, stopping when told', () => {
    const heap = new IndexedMinHeap<Item>((a, b) => a.key - b.key);
    const keys = Array.from({ length: 200 }, (_, i) => (i * 37) % 200);
    for (const key of keys) heap.push({ key, heapIndex: -1 });
    const seen: number[] = [];
    heap.visitInOrder((item) => {
      seen.push(item.key);
      return seen.length < 25;
    });
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const all: number[] = [];
    heap.visitInOrder((item) => (all.push(item.key), true));
    expect(all).toEqual([...keys].sort((a, b) => a - b));
    expect(drain(heap)).toEqual([...keys].sort((a, b) => a - b));
  });
});
