import { afterAll, describe, expect, it, vi } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { describeBackendHealthStoreContract } from '../../ports/backend-health-store.contract.js';
import type { BackendHealth } from '../../ports/backend-health-store.js';
import { createTableBackendHealthStore } from './table-backend-health-store.js';
import { createTableFixture, requireAzurite, uniqueTableName } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

describeBackendHealthStoreContract('TableBackendHealthStore (Azurite)', async () =>
  createTableBackendHealthStore({ client: await tables.table('health') }),
);

describe('TableBackendHealthStore across gateway instances (Azurite)', () => {
  const closed = (consecutiveOpens: number): BackendHealth => ({
    breaker: { state: 'closed', consecutiveOpens },
    version: 0,
    updatedAtMs: 1,
  });

  it('lets one instance read a trip written by another', async () => {
    const table = await tables.table('shared');
    const { connectionString } = requireAzurite();
    // Two independent clients, as two Functions instances would have.
    const second = TableClient.fromConnectionString(connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
    const a = createTableBackendHealthStore({ client: table });
    const b = createTableBackendHealthStore({ client: second });
    await a.update('aoai-east', () => ({
      breaker: { state: 'open', openedAtMs: 10, openUntilMs: 30_010, consecutiveOpens: 1 },
      coolingUntilMs: 5_000,
      version: 0,
      updatedAtMs: 10,
    }));
    const seen = (await b.read(['aoai-east'])).get('aoai-east');
    expect(seen).toMatchObject({ breaker: { state: 'open', openUntilMs: 30_010 }, coolingUntilMs: 5_000, version: 1 });
  });

  it('loses none of 20 concurrent updates made through two instances', async () => {
    const table = await tables.table('race');
    const second = TableClient.fromConnectionString(requireAzurite().connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
    const instances = [
      createTableBackendHealthStore({ client: table }),
      createTableBackendHealthStore({ client: second }),
    ];
    await instances[0]!.update('b', () => closed(0));
    // Count the replaces each instance sent: more than one per update means races were lost and retried.
    const replaces = [vi.spyOn(table, 'updateEntity'), vi.spyOn(second, 'updateEntity')];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        instances[i % 2]!.update('b', (current) => ({
          ...current!,
          breaker: { ...current!.breaker, consecutiveOpens: current!.breaker.consecutiveOpens + 1 },
        })),
      ),
    );
    const final = (await instances[1]!.read(['b'])).get('b');
    expect(final?.breaker.consecutiveOpens).toBe(20);
    expect(final?.version).toBe(21);
    expect(replaces[0]!.mock.calls.length + replaces[1]!.mock.calls.length).toBeGreaterThan(20);
  });

  it("keeps fields written by a newer gateway version through an older writer's update", async () => {
    const store = createTableBackendHealthStore({ client: await tables.table('compat') });
    await store.update('x', () => ({ ...closed(0), futureField: 'kept' }) as BackendHealth);
    await store.update('x', (current) => ({ ...current!, updatedAtMs: 2 }));
    expect((await store.read(['x'])).get('x')).toMatchObject({ futureField: 'kept', updatedAtMs: 2, version: 2 });
  });

  it('creates its table on first use', async () => {
    const client = TableClient.fromConnectionString(requireAzurite().connectionString, uniqueTableName('lazy'), {
      allowInsecureConnection: true,
    });
    const store = createTableBackendHealthStore({ client });
    try {
      expect((await store.read(['a'])).size).toBe(0);
    } finally {
      await client.deleteTable();
    }
  });
});

describe.skipIf(!process.env.GATEWAY_TEST_STORAGE_CONNECTION)('TableBackendHealthStore (live Azure Storage)', () => {
  const live = createTableFixture(process.env.GATEWAY_TEST_STORAGE_CONNECTION ?? '');
  afterAll(() => live.dispose());
  describeBackendHealthStoreContract('TableBackendHealthStore (live)', async () =>
    createTableBackendHealthStore({ client: await live.table('gwhealth') }),
  );
});
