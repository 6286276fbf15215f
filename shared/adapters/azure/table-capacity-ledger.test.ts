import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCapacityLedgerContract } from '../../ports/capacity-ledger.contract.js';
import { createTableCapacityLedger } from './table-capacity-ledger.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

describeCapacityLedgerContract(
  'TableCapacityLedger (Azurite)',
  async () => createTableCapacityLedger({ client: await tables.table('capacity') }),
  { appliesBeforeCommit: true },
);

describe('TableCapacityLedger across replicas (Azurite)', () => {
  it('keeps one ledger when replicas with their own clients report at once', async () => {
    const table = await tables.table('capacityshared');
    const clients = [0, 1, 2].map(() =>
      TableClient.fromConnectionString(requireAzurite().connectionString, table.tableName, {
        allowInsecureConnection: true,
      }),
    );
    const replicas = clients.map((client) => createTableCapacityLedger({ client }));
    const groups = [{ groupId: 'ptu', capacity: 8 }];
    await Promise.all(
      replicas.flatMap((ledger, i) =>
        [0, 1, 2, 3].map((k) =>
          ledger.report('pool', {
            instanceId: `replica-${i}`,
            groups,
            demand: [0, 0, 6],
            inUse: 0,
            holding: [],
            atMs: 1_700_000_000_000 + k,
          }),
        ),
      ),
    );
    const stored = (await replicas[0]!.read('pool'))!;
    expect(stored.revision).toBe(12);
    const granted = Object.values(stored.instances).reduce((s, e) => s + (e.grant?.[0]?.capacity ?? 0), 0);
    expect(granted).toBeLessThanOrEqual(8);
    expect(Object.keys(stored.instances)).toHaveLength(3);
  });

  it('stores a ledger larger than one Table column across several', async () => {
    const ledger = createTableCapacityLedger({ client: await tables.table('capacitybig') });
    const groups = [{ groupId: 'g', capacity: 1_000 }];
    for (let i = 0; i < 60; i++)
      await ledger.report('big', {
        instanceId: `instance-${String(i).padStart(3, '0')}-${'x'.repeat(400)}`,
        groups,
        demand: [1, 2, 3],
        inUse: 0,
        holding: [],
        atMs: 1_700_000_000_000 + i,
      });
    const stored = (await ledger.read('big'))!;
    expect(JSON.stringify(stored).length).toBeGreaterThan(30_000);
    expect(Object.keys(stored.instances)).toHaveLength(60);
  });
});
