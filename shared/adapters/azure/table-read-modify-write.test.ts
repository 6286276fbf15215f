import { afterAll, describe, expect, it } from 'vitest';
import type { TableClient, TableEntity } from '@azure/data-tables';
import { statusOf } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

interface Counter extends TableEntity {
  readonly count: number;
}

/** One increment of the counter entity `row`, optimistic. */
function increment(client: TableClient, row: string) {
  return tableReadModifyWrite(client, {
    read: async () => {
      try {
        const entity = await client.getEntity<Counter>('p', row);
        return { value: Number(entity.count), etag: entity.etag };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    decide: (count) => {
      const next = (count ?? 0) + 1;
      return { write: { partitionKey: 'p', rowKey: row, count: next }, result: next };
    },
    maxAttempts: 100,
    backoff: () => new Promise((resolve) => setImmediate(resolve)),
    describe: `counter ${row}`,
  });
}

/** A client whose writes fail with `statuses` in turn, then succeed; counts the writes. */
function failingClient(statuses: number[]) {
  const writes: string[] = [];
  const fail = (kind: string) => {
    writes.push(kind);
    const status = statuses.shift();
    if (status !== undefined) throw Object.assign(new Error(`status ${status}`), { statusCode: status });
    return Promise.resolve({});
  };
  return {
    writes,
    client: {
      createEntity: () => fail('create'),
      updateEntity: () => fail('update'),
    } as unknown as Pick<TableClient, 'createEntity' | 'updateEntity'>,
  };
}

describe('tableReadModifyWrite', () => {
  it('loses no update when writers race on one entity (Azurite)', async () => {
    const table = await tables.table('rmw');
    const results = await Promise.all(Array.from({ length: 12 }, () => increment(table, 'counter')));
    expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(Number((await table.getEntity<Counter>('p', 'counter')).count)).toBe(12);
  });

  it('creates the entity when there is none, and replaces it under its ETag after', async () => {
    const { client, writes } = failingClient([]);
    const table: { stored?: { value: number; etag: string } } = {};
    const options = {
      read: async () => table.stored,
      decide: (n: number | undefined) => ({ write: { partitionKey: 'p', rowKey: 'r' }, result: (n ?? 0) + 1 }),
      maxAttempts: 3,
      describe: 'x',
    };
    expect(await tableReadModifyWrite(client, options)).toBe(1);
    table.stored = { value: 1, etag: 'W/"1"' };
    expect(await tableReadModifyWrite(client, options)).toBe(2);
    expect(writes).toEqual(['create', 'update']);
  });

  it('writes nothing when the decision is to leave the entity as it is', async () => {
    const { client, writes } = failingClient([]);
    const result = await tableReadModifyWrite(client, {
      read: async () => ({ value: 5, etag: 'e' }),
      decide: (n) => ({ result: n }),
      maxAttempts: 3,
      describe: 'x',
    });
    expect(result).toBe(5);
    expect(writes).toEqual([]);
  });

  it('reads and decides again after a lost race (412, 409), and gives up after maxAttempts', async () => {
    const decided: number[] = [];
    const options = {
      read: async () => ({ value: decided.length, etag: 'e' }),
      decide: (n: number | undefined) => {
        decided.push(n ?? -1);
        return { write: { partitionKey: 'p', rowKey: 'r' }, result: n };
      },
      maxAttempts: 3,
      describe: 'TableX: "k"',
    };
    expect(await tableReadModifyWrite(failingClient([412, 409]).client, options)).toBe(2);
    expect(decided).toEqual([0, 1, 2]);
    await expect(tableReadModifyWrite(failingClient([412, 412, 412]).client, options)).rejects.toThrow(
      'TableX: "k" lost 3 races in a row',
    );
  });

  it('starts over on a vanished entity only when asked to, and throws any other failure at once', async () => {
    const options = {
      read: async () => ({ value: 1, etag: 'e' }),
      decide: () => ({ write: { partitionKey: 'p', rowKey: 'r' }, result: 'ok' }),
      maxAttempts: 3,
      describe: 'x',
    };
    expect(await tableReadModifyWrite(failingClient([404]).client, { ...options, retryWhenGone: true })).toBe('ok');
    await expect(tableReadModifyWrite(failingClient([404]).client, options)).rejects.toThrow('status 404');
    const { client, writes } = failingClient([500]);
    await expect(tableReadModifyWrite(client, { ...options, retryWhenGone: true })).rejects.toThrow('status 500');
    expect(writes).toHaveLength(1);
  });
});
