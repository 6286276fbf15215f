import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { describeAffinityStoreContract } from '../../ports/affinity-store.contract.js';
import { MemoryAffinityStore } from './memory-affinity-store.js';

describeAffinityStoreContract('memory', () => {
  const clock = new FakeClock();
  return { store: new MemoryAffinityStore({ clock }), advanceMs: (ms) => clock.advance(ms) };
});

describe('MemoryAffinityStore', () => {
  it('drops the oldest mapping beyond its bound', async () => {
    const store = new MemoryAffinityStore({ clock: new FakeClock(), maxEntries: 2 });
    await store.set('a', 'x', 1000);
    await store.set('b', 'x', 1000);
    await store.set('c', 'x', 1000);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('c')).toBe('x');
  });
});
