import { describe, expect, it } from 'vitest';
import type { QuotaStore } from './quota-store.js';

/**
 * The behaviour every {@link QuotaStore} must show, memory or shared. Run it from the adapter's test:
 *
 * @example
 * describeQuotaStoreContract('MemoryQuotaStore', () => new MemoryQuotaStore());
 */
export function describeQuotaStoreContract(name: string, createStore: () => QuotaStore | Promise<QuotaStore>): void {
  const W = 1_700_000_040_000;
  // Unique keys per test so that a shared store (Azurite) needs no cleanup between tests.
  let n = 0;
  const key = (label: string): string => `contract-${label}-${process.pid}-${Date.now()}-${n++}`;

  describe(`QuotaStore contract: ${name}`, () => {
    it('grants reservations within the limit and counts them', async () => {
      const store = await createStore();
      const k = key('grant');
      expect(await store.reserve(k, W, 40, 100)).toEqual({ granted: true, used: 40 });
      expect(await store.reserve(k, W, 60, 100)).toEqual({ granted: true, used: 100 });
      expect(await store.used(k, W)).toBe(100);
    });

    it('refuses a reservation that would pass the limit and changes nothing', async () => {
      const store = await createStore();
      const k = key('refuse');
      await store.reserve(k, W, 90, 100);
      expect(await store.reserve(k, W, 20, 100)).toEqual({ granted: false, used: 90 });
      expect(await store.used(k, W)).toBe(90);
    });

    it('grants one oversized reservation in an empty window, then refuses', async () => {
      const store = await createStore();
      const k = key('oversize');
      expect(await store.reserve(k, W, 500, 100)).toEqual({ granted: true, used: 500 });
      expect((await store.reserve(k, W, 1, 100)).granted).toBe(false);
    });

    it('keeps windows and keys apart', async () => {
      const store = await createStore();
      const a = key('a');
      const b = key('b');
      await store.reserve(a, W, 100, 100);
      expect((await store.reserve(a, W + 60_000, 100, 100)).granted).toBe(true);
      expect((await store.reserve(b, W, 100, 100)).granted).toBe(true);
      expect(await store.used(a, W)).toBe(100);
    });

    it('adjusts up and down and never below zero', async () => {
      const store = await createStore();
      const k = key('adjust');
      await store.reserve(k, W, 50, 100);
      expect(await store.adjust(k, W, 30)).toBe(80);
      expect(await store.adjust(k, W, -200)).toBe(0);
      expect(await store.used(k, W)).toBe(0);
      expect(await store.adjust(key('fresh'), W, 7)).toBe(7);
    });

    it('frees budget given back by a negative adjust', async () => {
      const store = await createStore();
      const k = key('release');
      await store.reserve(k, W, 100, 100);
      await store.adjust(k, W, -100);
      expect((await store.reserve(k, W, 100, 100)).granted).toBe(true);
    });

    it('never over-grants under 50 concurrent reservations', async () => {
      const store = await createStore();
      const k = key('concurrent');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve(k, W, 10, 205)));
      const granted = results.filter((r) => r.granted).length;
      expect(granted).toBe(20);
      expect(await store.used(k, W)).toBe(200);
    });

    it('keeps the counter exact under 50 concurrent adjusts', async () => {
      const store = await createStore();
      const k = key('concurrent-adjust');
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.adjust(k, W, i % 2 === 0 ? 3 : 1)));
      expect(await store.used(k, W)).toBe(100);
    });
  });
}
