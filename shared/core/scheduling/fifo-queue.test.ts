import { describe, expect, it } from 'vitest';
import { FifoQueue } from './fifo-queue.js';

describe('FifoQueue', () => {
  it('returns items first in, first out and skips removed ones', () => {
    const items = Array.from({ length: 5 }, (_, i) => ({ id: i, live: true }));
    const queue = new FifoQueue<{ id: number; live: boolean }>((x) => x.live);
    for (const item of items) queue.push(item);
    (items[0] as { live: boolean }).live = false;
    (items[2] as { live: boolean }).live = false;
    queue.noteRemoved();
    queue.noteRemoved();
    expect(queue.size).toBe(3);
    expect(queue.peek()?.id).toBe(1);
    expect(queue.toArray().map((x) => x.id)).toEqual([1, 3, 4]);
  });

  it('compacts tombstones so memory follows the live size', () => {
    const queue = new FifoQueue<{ live: boolean }>((x) => x.live);
    const items = Array.from({ length: 10_000 }, () => ({ live: true }));
    for (const item of items) queue.push(item);
    for (let i = 1; i < items.length; i += 2) {
      (items[i] as { live: boolean }).live = false;
      queue.noteRemoved();
    }
    for (let i = 0; i < items.length - 2; i += 2) {
      (items[i] as { live: boolean }).live = false;
      queue.noteRemoved();
    }
    expect(queue.size).toBe(1);
    expect(queue.slotCount).toBeLessThan(200);
    expect(queue.peek()).toBe(items[items.length - 2]);
  });
});
