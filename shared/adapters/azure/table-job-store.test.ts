import { afterAll, describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { describeJobStoreContract } from '../../ports/job-store.contract.js';
import type { JobRecord } from '../../ports/job-store.js';
import { createTableJobStore } from './table-job-store.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

describeJobStoreContract('TableJobStore (Azurite)', async () =>
  createTableJobStore({ client: await tables.table('jobs') }),
);

describe('TableJobStore across gateway instances (Azurite)', () => {
  const job: JobRecord = {
    id: 'job/with#odd?chars',
    requestId: 'r',
    owner: { userId: 'u' },
    status: 'queued',
    createdAtMs: 1,
    updatedAtMs: 1,
    expiresAtMs: 10,
    deadlineMs: 5,
    attempts: 0,
    routeId: 'chat',
    priority: 3,
    retentionMs: 60_000,
    version: 0,
  };

  it('lets exactly one of two instances start a queued job (a duplicate delivery)', async () => {
    const table = await tables.table('jobsshared');
    const other = TableClient.fromConnectionString(requireAzurite().connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
    const a = createTableJobStore({ client: table });
    const b = createTableJobStore({ client: other });
    await a.create(job);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).transition(job.id, ['queued'], { status: 'running', updatedAtMs: 2 + i, attempts: 1 }),
      ),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await b.get(job.id)).toMatchObject({ status: 'running', version: 2 });
  });
});

describe.skipIf(!process.env.GATEWAY_TEST_STORAGE_CONNECTION)('TableJobStore (live Azure Storage)', () => {
  const live = createTableFixture(process.env.GATEWAY_TEST_STORAGE_CONNECTION ?? '');
  afterAll(() => live.dispose());
  describeJobStoreContract('TableJobStore (live)', async () =>
    createTableJobStore({ client: await live.table('gwjobs') }),
  );
});
