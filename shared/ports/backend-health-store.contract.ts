import { describe, expect, it } from 'vitest';
import type { BackendHealth, BackendHealthStore } from './backend-health-store.js';

/**
 * The behaviour every {@link BackendHealthStore} adapter must have. Run it from the adapter's test
 * file; the factory must return a fresh, empty store each time (e.g. a new Azurite table).
 *
 * @example
 * describeBackendHealthStoreContract('MemoryBackendHealthStore', () => new MemoryBackendHealthStore());
 */
export function describeBackendHealthStoreContract(
  name: string,
  factory: () => BackendHealthStore | Promise<BackendHealthStore>,
): void {
  const closed = (consecutiveOpens = 0, updatedAtMs = 1_000): BackendHealth => ({
    breaker: { state: 'closed', consecutiveOpens },
    version: 0,
    updatedAtMs,
  });

  describe(`BackendHealthStore contract: ${name}`, () => {
    it('reads nothing for backends that were never written', async () => {
      const store = await factory();
      const read = await store.read(['a', 'b']);
      expect(read.size).toBe(0);
    });

    it('creates a record through update and reads it back with version 1', async () => {
      const store = await factory();
      const stored = await store.update('a', (current) => {
        expect(current).toBeUndefined();
        return {
          ...closed(),
          coolingUntilMs: 5_000,
          latencyEwmaMs: 120.5,
          lastProbe: { atMs: 900, ok: false, latencyMs: 3_000 },
        };
      });
      expect(stored).toMatchObject({
        breaker: { state: 'closed', consecutiveOpens: 0 },
        coolingUntilMs: 5_000,
        latencyEwmaMs: 120.5,
        version: 1,
        updatedAtMs: 1_000,
      });
      const read = await store.read(['a']);
      expect(read.get('a')).toEqual(stored);
      expect(read.get('a')?.lastProbe).toEqual({ atMs: 900, ok: false, latencyMs: 3_000 });
    });

    it('round-trips every breaker field', async () => {
      const store = await factory();
      const record: BackendHealth = {
        breaker: { state: 'open', openedAtMs: 10, openUntilMs: 30_010, consecutiveOpens: 3 },
        lastProbe: { atMs: 5, ok: true, latencyMs: 12, status: 200 },
        version: 0,
        updatedAtMs: 10,
      };
      await store.update('a', () => record);
      expect((await store.read(['a'])).get('a')).toEqual({ ...record, version: 1 });
    });

    it('returns only the requested backends', async () => {
      const store = await factory();
      await store.update('a', () => closed());
      await store.update('b', () => closed());
      const read = await store.read(['b', 'c']);
      expect([...read.keys()]).toEqual(['b']);
    });

    it('writes nothing and keeps the version when mutate returns undefined', async () => {
      const store = await factory();
      await store.update('a', () => closed());
      const result = await store.update('a', () => undefined);
      expect(result?.version).toBe(1);
      expect((await store.read(['a'])).get('a')?.version).toBe(1);
      expect(await store.update('never-written', () => undefined)).toBeUndefined();
      expect((await store.read(['never-written'])).size).toBe(0);
    });

    it('passes the current record to mutate and increments the version on every write', async () => {
      const store = await factory();
      await store.update('a', () => closed(0));
      await store.update('a', (current) => ({
        ...current!,
        breaker: { state: 'open', openedAtMs: 1, openUntilMs: 2, consecutiveOpens: 1 },
      }));
      const third = await store.update('a', (current) => {
        expect(current?.breaker.state).toBe('open');
        return { ...current!, breaker: { state: 'closed', consecutiveOpens: 0 }, version: 999 };
      });
      expect(third?.version).toBe(3);
    });

    it('keeps records of different backends apart', async () => {
      const store = await factory();
      await store.update('a', () => closed(1));
      await store.update('b', () => closed(2));
      const read = await store.read(['a', 'b']);
      expect(read.get('a')?.breaker.consecutiveOpens).toBe(1);
      expect(read.get('b')?.breaker.consecutiveOpens).toBe(2);
    });

    it('accepts backend ids with characters that storage keys forbid', async () => {
      const store = await factory();
      const id = 'pool/a#1?x\\y';
      await store.update(id, () => closed(4));
      expect((await store.read([id])).get(id)?.breaker.consecutiveOpens).toBe(4);
    });

    it('does not let callers change the stored record by mutating what they were given', async () => {
      const store = await factory();
      const stored = await store.update('a', () => closed(1));
      (stored as { breaker: { consecutiveOpens: number } }).breaker.consecutiveOpens = 42;
      const read = await store.read(['a']);
      (read.get('a') as { breaker: { consecutiveOpens: number } }).breaker.consecutiveOpens = 43;
      expect((await store.read(['a'])).get('a')?.breaker.consecutiveOpens).toBe(1);
    });

    it('rejects and writes nothing when mutate throws', async () => {
      const store = await factory();
      await store.update('a', () => closed(1));
      await expect(
        store.update('a', () => {
          throw new Error('mutator failed');
        }),
      ).rejects.toThrow('mutator failed');
      expect((await store.read(['a'])).get('a')).toMatchObject({ version: 1, breaker: { consecutiveOpens: 1 } });
    });

    // 20 writers: every lost race costs a read and a write for each writer still in, so the work grows with the
    // square of the count; 20 already make most of them lose several races.
    it('loses none of 20 concurrent increments', async () => {
      const store = await factory();
      await store.update('a', () => closed(0));
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.update('a', (current) => ({
            ...current!,
            breaker: { ...current!.breaker, consecutiveOpens: current!.breaker.consecutiveOpens + 1 },
          })),
        ),
      );
      const final = (await store.read(['a'])).get('a');
      expect(final?.breaker.consecutiveOpens).toBe(20);
      expect(final?.version).toBe(21);
    });

    it('loses none of 20 concurrent first writes to a backend with no record', async () => {
      const store = await factory();
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.update('fresh', (current) => closed((current?.breaker.consecutiveOpens ?? 0) + 1)),
        ),
      );
      expect((await store.read(['fresh'])).get('fresh')?.breaker.consecutiveOpens).toBe(20);
    });
  });
}
