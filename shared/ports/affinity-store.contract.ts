import { describe, expect, it } from 'vitest';
import type { AffinityStore } from './affinity-store.js';

/**
 * The behaviour every {@link AffinityStore} adapter must have. `advanceMs` moves the adapter's clock.
 *
 * @example
 * describeAffinityStoreContract('memory', () => {
 *   const clock = new FakeClock();
 *   return { store: new MemoryAffinityStore({ clock }), advanceMs: (ms) => clock.advance(ms) };
 * });
 */
export function describeAffinityStoreContract(
  name: string,
  factory: () => { store: AffinityStore; advanceMs: (ms: number) => Promise<void> | void },
): void {
  describe(`AffinityStore contract: ${name}`, () => {
    const unique = (id: string): string => `${id}_${Math.random().toString(36).slice(2)}`;

    it('returns the backend recorded for a state id', async () => {
      const { store } = factory();
      const id = unique('resp');
      await store.set(id, 'aoai-east', 60_000);
      expect(await store.get(id)).toBe('aoai-east');
    });

    it('knows nothing of an id never recorded', async () => {
      const { store } = factory();
      expect(await store.get(unique('resp'))).toBeUndefined();
    });

    it('forgets a mapping after its time to live', async () => {
      const { store, advanceMs } = factory();
      const id = unique('file');
      await store.set(id, 'b1', 1_000);
      await advanceMs(1_001);
      expect(await store.get(id)).toBeUndefined();
    });

    it('keeps ids with characters that are special in storage keys apart', async () => {
      const { store } = factory();
      const a = unique('a/b#c?d\\e');
      const b = unique('a/b#c?d\\f');
      await store.set(a, 'x', 60_000);
      await store.set(b, 'y', 60_000);
      expect(await store.get(a)).toBe('x');
      expect(await store.get(b)).toBe('y');
    });

    it('lets one caller claim a state id once, while the mark lives, whatever its affinity', async () => {
      const { store, advanceMs } = factory();
      const id = unique('resp');
      await store.set(id, 'x', 60_000);
      const claims = await Promise.all([store.claimOnce(id, 1_000), store.claimOnce(id, 1_000)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claimOnce(id, 1_000)).toBe(false);
      expect(await store.get(id)).toBe('x');
      expect(await store.claimOnce(unique('resp'), 1_000)).toBe(true);
      await advanceMs(1_001);
      expect(await store.claimOnce(id, 1_000)).toBe(true);
    });

    it('overwrites a mapping', async () => {
      const { store } = factory();
      const id = unique('thread');
      await store.set(id, 'x', 60_000);
      await store.set(id, 'y', 60_000);
      expect(await store.get(id)).toBe('y');
    });
  });
}
