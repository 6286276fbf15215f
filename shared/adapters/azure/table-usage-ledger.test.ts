import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { createUsageRecord, type UsageRecord } from '../../core/usage/usage-record.js';
import { describeUsageLedgerContract } from '../../ports/usage-ledger.contract.js';
import { createTableUsageLedger } from './table-usage-ledger.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

describeUsageLedgerContract('TableUsageLedger (Azurite)', async () => {
  const client = await tables.table('usage');
  return {
    ledger: createTableUsageLedger({ client }, { flushIntervalMs: 0 }),
    reopen: async () => createTableUsageLedger({ client }, { flushIntervalMs: 0 }),
  };
});

const DAY = Date.UTC(2026, 10, 2);
const rec = (
  requestId: string,
  userId: string | null,
  timestampMs: number,
  extra: Partial<Parameters<typeof createUsageRecord>[0]> = {},
): UsageRecord =>
  createUsageRecord(
    { requestId, httpStatus: 200, outcome: 'complete', timestampMs, caller: { userId }, ...extra },
    new FakeClock(timestampMs),
  );

async function all(iterable: AsyncIterable<UsageRecord>): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

describe('TableUsageLedger layout and limits (Azurite)', () => {
  it("stores one caller's day in one partition, ordered by time, with flat columns", async () => {
    const client = await tables.table('layout');
    const ledger = createTableUsageLedger({ client }, { flushIntervalMs: 0 });
    await ledger.append(rec('r2', 'alice', DAY + 2_000));
    await ledger.append(rec('r1', 'alice', DAY + 1_000));
    await ledger.append(rec('r3', 'bob/x', DAY + 3_000));
    await ledger.close();
    const entities = [];
    for await (const e of client.listEntities()) entities.push(e);
    expect(entities.map((e) => [e.partitionKey, e.rowKey])).toEqual([
      ['20261102|u:alice', `00${DAY + 1_000}|r1`],
      ['20261102|u:alice', `00${DAY + 2_000}|r2`],
      ['20261102|u:bob%2Fx', `00${DAY + 3_000}|r3`],
    ]);
    expect(entities[0]).toMatchObject({
      userId: 'alice',
      httpStatus: 200,
      outcome: 'complete',
      totalTokens: 0,
      schemaVersion: 1,
      recordParts: 1,
    });
  });

  it("answers a caller's range across days and everyone's range across callers and days", async () => {
    const ledger = createTableUsageLedger({ client: await tables.table('ranges') }, { flushIntervalMs: 0 });
    const records = [
      rec('a1', 'alice', DAY - 1),
      rec('a2', 'alice', DAY + 5),
      rec('b1', 'bob', DAY + 6),
      rec('n1', null, DAY + 7),
      rec('a3', 'alice', DAY + 86_400_000),
    ];
    for (const r of records) await ledger.append(r);
    expect(
      (await all(ledger.query({ fromMs: DAY - 10, toMs: DAY + 86_400_001, userId: 'alice' }))).map((r) => r.requestId),
    ).toEqual(['a1', 'a2', 'a3']);
    expect((await all(ledger.query({ fromMs: DAY, toMs: DAY + 86_400_000 }))).map((r) => r.requestId).sort()).toEqual([
      'a2',
      'b1',
      'n1',
    ]);
    // The long-range path (a range scan filtered by userId) gives the same answer.
    expect(
      (await all(ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, userId: 'alice' }))).map((r) => r.requestId),
    ).toEqual(['a1', 'a2', 'a3']);
    await ledger.close();
  });

  it('round-trips a record larger than one Table string property', async () => {
    const ledger = createTableUsageLedger({ client: await tables.table('large') }, { flushIntervalMs: 0 });
    const big = rec('big', 'alice', DAY, { route: 'r'.repeat(70_000) });
    await ledger.append(big);
    await ledger.flush();
    expect(await all(ledger.query({ fromMs: DAY, toMs: DAY + 1, userId: 'alice' }))).toEqual([big]);
    await ledger.close();
  });

  it('writes a record appended twice once (idempotent upserts)', async () => {
    const ledger = createTableUsageLedger({ client: await tables.table('dupe') }, { flushIntervalMs: 0 });
    const r = rec('same', 'alice', DAY);
    await ledger.append(r);
    await ledger.append(r);
    expect(await all(ledger.query({ fromMs: DAY, toMs: DAY + 1 }))).toEqual([r]);
    await ledger.close();
  });

  it('keeps records buffered and reports the error when the table cannot be written', async () => {
    const client = await tables.table('broken');
    const errors: unknown[] = [];
    const ledger = createTableUsageLedger(
      { client },
      { flushIntervalMs: 0, createTable: false, onError: (e) => errors.push(e) },
    );
    await client.deleteTable();
    await ledger.append(rec('r', 'alice', DAY));
    await expect(ledger.flush()).rejects.toThrow();
    expect(ledger.bufferedRecords).toBe(1);
    await client.createTable();
    await ledger.flush();
    expect(ledger.bufferedRecords).toBe(0);
    await ledger.close();
  });

  it('applies back-pressure at the buffer bound instead of dropping records', async () => {
    const ledger = createTableUsageLedger(
      { client: await tables.table('bound') },
      { flushIntervalMs: 0, flushEveryRecords: 5, maxBufferedRecords: 5 },
    );
    await Promise.all(Array.from({ length: 40 }, (_, i) => ledger.append(rec(`r${i}`, 'alice', DAY + i))));
    expect(ledger.bufferedRecords).toBeLessThanOrEqual(5);
    expect(await all(ledger.query({ fromMs: DAY, toMs: DAY + 100 }))).toHaveLength(40);
    await ledger.close();
  });
});

describe.skipIf(!process.env.GATEWAY_TEST_STORAGE_CONNECTION)('TableUsageLedger (live Azure Storage)', () => {
  const live = createTableFixture(process.env.GATEWAY_TEST_STORAGE_CONNECTION ?? '');
  afterAll(() => live.dispose());
  describeUsageLedgerContract('TableUsageLedger (live)', async () => {
    const client = await live.table('gwusage');
    return { ledger: createTableUsageLedger({ client }), reopen: async () => createTableUsageLedger({ client }) };
  });
});
