import { afterAll } from 'vitest';
import { describeAffinityStoreContract } from '../../ports/affinity-store.contract.js';
import { createTableAffinityStore } from './table-affinity-store.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());
const client = tables.table('affinity');

describeAffinityStoreContract('TableAffinityStore (Azurite)', () => {
  let skewMs = 0;
  const lazy = client.then((c) => createTableAffinityStore({ client: c, now: () => Date.now() + skewMs }));
  return {
    store: {
      get: async (id) => (await lazy).get(id),
      set: async (id, b, ttl) => (await lazy).set(id, b, ttl),
      claimOnce: async (id, ttl) => (await lazy).claimOnce(id, ttl),
    },
    advanceMs: (ms) => {
      skewMs += ms;
    },
  };
});
