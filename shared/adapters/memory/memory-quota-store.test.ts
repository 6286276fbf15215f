import { expect, it } from 'vitest';
import { describeQuotaStoreContract } from '../../ports/quota-store.contract.js';
import { MemoryQuotaStore } from './memory-quota-store.js';

describeQuotaStoreContract('MemoryQuotaStore', () => new MemoryQuotaStore());

it('keeps only the two most recent windows of a key', async () => {
  const store = new MemoryQuotaStore();
  await store.adjust('k', 0, 5);
  await store.adjust('k', 60_000, 6);
  await store.adjust('k', 120_000, 7);
  expect(await store.used('k', 0)).toBe(0);
  expect(await store.used('k', 60_000)).toBe(6);
  expect(await store.used('k', 120_000)).toBe(7);
});
