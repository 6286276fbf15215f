import { describe, expect, it } from 'vitest';
import { describeBackendHealthStoreContract } from '../../ports/backend-health-store.contract.js';
import { MemoryBackendHealthStore } from './memory-backend-health-store.js';

describeBackendHealthStoreContract('MemoryBackendHealthStore', () => new MemoryBackendHealthStore());
describeBackendHealthStoreContract(
  'MemoryBackendHealthStore (simulated contention)',
  () => new MemoryBackendHealthStore({ simulateContention: true }),
);

describe('MemoryBackendHealthStore', () => {
  it('re-applies mutate when it loses a race, so mutate sees the winner’s record', async () => {
    const store = new MemoryBackendHealthStore({ simulateContention: true });
    await store.update('a', () => ({ breaker: { state: 'closed', consecutiveOpens: 0 }, version: 0, updatedAtMs: 0 }));
    const seen: number[] = [];
    const add = (n: number) => (c: Parameters<Parameters<MemoryBackendHealthStore['update']>[1]>[0]) => {
      seen.push(c!.breaker.consecutiveOpens);
      return { ...c!, breaker: { ...c!.breaker, consecutiveOpens: c!.breaker.consecutiveOpens + n } };
    };
    await Promise.all([store.update('a', add(1)), store.update('a', add(10))]);
    // The loser first saw 0, then the winner's record.
    expect(seen).toHaveLength(3);
    expect(seen.filter((v) => v === 0)).toHaveLength(2);
    expect((await store.read(['a'])).get('a')?.breaker.consecutiveOpens).toBe(11);
  });

  it('gives up after the configured number of lost races', async () => {
    const store = new MemoryBackendHealthStore({ simulateContention: true, maxUpdateAttempts: 1 });
    await store.update('a', () => ({ breaker: { state: 'closed', consecutiveOpens: 0 }, version: 0, updatedAtMs: 0 }));
    const bump = (c: Parameters<Parameters<MemoryBackendHealthStore['update']>[1]>[0]) => ({
      ...c!,
      updatedAtMs: c!.updatedAtMs + 1,
    });
    const results = await Promise.allSettled([store.update('a', bump), store.update('a', bump)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
