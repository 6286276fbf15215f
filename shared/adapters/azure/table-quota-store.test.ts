import { afterAll, describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { describeQuotaStoreContract } from '../../ports/quota-store.contract.js';
import { createTableQuotaStore } from './table-quota-store.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

describeQuotaStoreContract('TableQuotaStore (Azurite)', async () =>
  createTableQuotaStore({ client: await tables.table('quota') }),
);

describe('TableQuotaStore across gateway instances (Azurite)', () => {
  it('never over-grants when two instances reserve the same budget concurrently', async () => {
    const table = await tables.table('quotashared');
    const other = TableClient.fromConnectionString(requireAzurite().connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
    const instances = [createTableQuotaStore({ client: table }), createTableQuotaStore({ client: other })];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => instances[i % 2]!.reserve('shared', 0, 5, 100)),
    );
    expect(results.filter((r) => r.granted)).toHaveLength(20);
    expect(await instances[1]!.used('shared', 0)).toBe(100);
  });
});

describe.skipIf(!process.env.GATEWAY_TEST_STORAGE_CONNECTION)('TableQuotaStore (live Azure Storage)', () => {
  const live = createTableFixture(process.env.GATEWAY_TEST_STORAGE_CONNECTION ?? '');
  afterAll(() => live.dispose());
  describeQuotaStoreContract('TableQuotaStore (live)', async () =>
    createTableQuotaStore({ client: await live.table('gwquota') }),
  );
});
