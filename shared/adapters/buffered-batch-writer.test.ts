import { describe, expect, it } from 'vitest';
import { BatchWriteError, createBufferedBatchWriter } from './buffered-batch-writer.js';

describe('createBufferedBatchWriter', () => {
  it('writes in batches once flushEvery items wait, one write at a time', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writer = createBufferedBatchWriter<number>({
      flushEvery: 3,
      intervalMs: 0,
      write: async (batch) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await Promise.resolve();
        batches.push(batch);
        inFlight--;
        return [];
      },
    });
    for (let i = 0; i < 7; i++) await writer.add(i);
    await writer.close();
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(maxInFlight).toBe(1);
  });

  it('keeps unwritten items at the front and retries them on the next flush', async () => {
    let fail = true;
    const written: string[] = [];
    const writer = createBufferedBatchWriter<string>({
      flushEvery: 100,
      intervalMs: 0,
      write: async (batch) => {
        if (fail) throw new BatchWriteError(batch.slice(1), { cause: new Error('partial') });
        written.push(...batch);
        return [];
      },
    });
    await writer.add('a');
    await writer.add('b');
    await writer.add('c');
    await expect(writer.flush()).rejects.toThrow('batch write failed');
    expect(writer.buffered).toBe(2);
    await writer.add('d');
    fail = false;
    await writer.flush();
    expect(written).toEqual(['b', 'c', 'd']);
  });

  it('applies back-pressure at maxBuffered instead of growing', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let writes = 0;
    const writer = createBufferedBatchWriter<number>({
      flushEvery: 2,
      maxBuffered: 2,
      intervalMs: 0,
      write: async () => {
        writes++;
        await gate;
        return [];
      },
    });
    await writer.add(1);
    await writer.add(2); // triggers a background write that waits on the gate
    await writer.add(3);
    await writer.add(4);
    let fifthAdded = false;
    const fifth = writer.add(5).then(() => (fifthAdded = true));
    await Promise.resolve();
    expect(fifthAdded).toBe(false);
    expect(writer.buffered).toBeLessThanOrEqual(2);
    release();
    await fifth;
    await writer.close();
    expect(writes).toBeGreaterThanOrEqual(2);
  });
});
