import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

describe('MinHeap', () => {
  it('pops in comparator order and keeps order after compaction', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    for (const v of values) heap.push(v);
    heap.compact((v) => v % 3 !== 0);
    const out: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
    expect(out).toEqual([...values].filter((v) => v % 3 !== 0).sort((a, b) => a - b));
  });
});
