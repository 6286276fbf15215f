import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import type { JobRecord } from '../../ports/job-store.js';
import { createTableJobStore, JOB_ROW_KEY } from './table-job-store.js';
import { BACKEND_HEALTH_PARTITION, createTableBackendHealthStore } from './table-backend-health-store.js';
import { createTableQuotaStore } from './table-quota-store.js';
import { createTableAffinityStore } from './table-affinity-store.js';
import { CAPACITY_LEDGER_PARTITION, createTableCapacityLedger } from './table-capacity-ledger.js';
import { createBlobPayloadStore, PAYLOAD_META_KEY } from './blob-payload-store.js';
import { createTableUsageLedger } from './table-usage-ledger.js';
import { usageRecordAt } from '../../../test/support/usage-records.js';
import { encodeTableKey, timeKey } from './table-key.js';
import { createTableFixture, requireAzurite } from './test-support/azurite.js';

const tables = createTableFixture(requireAzurite().connectionString);
afterAll(() => tables.dispose());

/** Each store's corrupt reads, as the composition's reporter would see them. */
function sink(): { onCorrupt(error: StoredRecordError): void; seen: StoredRecordError[] } {
  const seen: StoredRecordError[] = [];
  return { onCorrupt: (error) => seen.push(error), seen };
}

/** Overwrites one column of an entity with the SDK, as a hand edit or a broken writer would. */
async function corrupt(client: TableClient, pk: string, rk: string, columns: Record<string, unknown>): Promise<void> {
  await client.updateEntity({ partitionKey: pk, rowKey: rk, ...columns }, 'Merge');
}

const job: JobRecord = {
  id: 'job-corrupt-1',
  requestId: 'r1',
  owner: { userId: 'alice', profileId: 'batch' },
  status: 'queued',
  createdAtMs: 1_000,
  updatedAtMs: 1_000,
  expiresAtMs: 2_000,
  deadlineMs: 1_500,
  attempts: 0,
  routeId: 'chat',
  priority: 3,
  retentionMs: 60_000,
  version: 0,
};

describe('TableJobStore reading a corrupt job entity (Azurite)', () => {
  it('throws a StoredRecordError naming table and key, with the owner the entity still names', async () => {
    const client = await tables.table('jobsbad');
    const reports = sink();
    const store = createTableJobStore({ client }, { onCorrupt: reports.onCorrupt });
    await store.create(job);
    const stored = JSON.parse((await client.getEntity<{ job: string }>(job.id, JOB_ROW_KEY)).job) as object;
    await corrupt(client, job.id, JOB_ROW_KEY, { job: JSON.stringify({ ...stored, status: 'paused', attempts: '1' }) });

    const error = await store.get(job.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoredRecordError);
    const corrupted = error as StoredRecordError;
    expect(corrupted.message).toContain(`in ${client.tableName} at PartitionKey=${job.id} RowKey=${JOB_ROW_KEY}`);
    expect(corrupted.problem).toMatch(/status: .*; attempts: /);
    expect(corrupted.message).not.toContain('paused');
    expect(corrupted.owner).toEqual({ userId: 'alice', profileId: 'batch' });
    // A transition reads the same entity: the same error, and nothing is written over it.
    await expect(store.transition(job.id, ['queued'], { status: 'running', updatedAtMs: 3 })).rejects.toThrow(
      StoredRecordError,
    );
    expect(reports.seen.map((e) => e.store)).toEqual(['jobs', 'jobs']);
  });

  it('falls back to the ownerUserId column when the job JSON is not JSON at all', async () => {
    const client = await tables.table('jobsnojson');
    const store = createTableJobStore({ client });
    await store.create(job);
    await corrupt(client, job.id, JOB_ROW_KEY, { job: '{"id":"job-corr' });
    const error = (await store.get(job.id).catch((e: unknown) => e)) as StoredRecordError;
    expect(error.problem).toBe('not JSON (15 characters)');
    expect(error.owner).toEqual({ userId: 'alice' });
  });

  it('skips a corrupt entity in the expiry sweep and still lists the others', async () => {
    const client = await tables.table('jobssweep');
    const reports = sink();
    const store = createTableJobStore({ client }, { onCorrupt: reports.onCorrupt });
    await store.create(job);
    await store.create({ ...job, id: 'job-corrupt-2' });
    await corrupt(client, 'job-corrupt-2', JOB_ROW_KEY, { version: 'seven' });
    expect((await store.listExpired(5_000, 10)).map((j) => j.id)).toEqual([job.id]);
    expect(reports.seen).toHaveLength(1);
    expect(reports.seen[0]!.key).toBe(`PartitionKey=job-corrupt-2 RowKey=${JOB_ROW_KEY}`);
  });
});

describe('TableBackendHealthStore reading a corrupt health entity (Azurite)', () => {
  const open = (now: number) => ({
    breaker: { state: 'open' as const, openedAtMs: now, openUntilMs: now + 30_000, consecutiveOpens: 1 },
    version: 0,
    updatedAtMs: now,
  });

  it('reads it as no record (healthy), reports it, and the next change replaces it with a newer version', async () => {
    const client = await tables.table('healthbad');
    const reports = sink();
    const store = createTableBackendHealthStore({ client }, { onCorrupt: reports.onCorrupt });
    await store.update('east/1', () => open(1));
    await store.update('west', () => open(1));
    await corrupt(client, BACKEND_HEALTH_PARTITION, encodeTableKey('east/1'), {
      health: JSON.stringify({ breaker: { state: 'ajar' } }),
      version: 5,
    });

    const read = await store.read(['east/1', 'west']);
    expect([...read.keys()]).toEqual(['west']);
    expect(reports.seen[0]!.message).toBe(
      `Corrupt backend-health record in ${client.tableName} at PartitionKey=${BACKEND_HEALTH_PARTITION} ` +
        `RowKey=east%2F1: breaker.state: Invalid option: expected one of "closed"|"open"|"half-open"; ` +
        `breaker.consecutiveOpens: Invalid input: expected number, received undefined; ` +
        `updatedAtMs: Invalid input: expected number, received undefined`,
    );

    const healed = await store.update('east/1', (current) => (current === undefined ? open(2) : undefined));
    expect(healed).toMatchObject({ breaker: { state: 'open' }, version: 6 });
    expect((await store.read(['east/1'])).get('east/1')).toMatchObject({ version: 6, updatedAtMs: 2 });
  });
});

describe('TableQuotaStore reading a corrupt counter (Azurite)', () => {
  it('counts from 0 again, reports it, and the next reservation replaces the counter', async () => {
    const client = await tables.table('quotabad');
    const reports = sink();
    const store = createTableQuotaStore({ client }, { onCorrupt: reports.onCorrupt });
    await store.reserve('profile:batch:day', 0, 500, 1_000);
    await corrupt(client, encodeTableKey('profile:batch:day'), timeKey(0), { used: 'lots' });

    expect(await store.used('profile:batch:day', 0)).toBe(0);
    expect(await store.reserve('profile:batch:day', 0, 300, 1_000)).toEqual({ granted: true, used: 300 });
    expect(await store.used('profile:batch:day', 0)).toBe(300);
    expect(reports.seen.map((e) => [e.store, e.key])).toEqual([
      ['quota', `PartitionKey=profile:batch:day RowKey=${timeKey(0)}`],
      ['quota', `PartitionKey=profile:batch:day RowKey=${timeKey(0)}`],
    ]);
  });
});

describe('TableAffinityStore reading corrupt rows (Azurite)', () => {
  it('reads a corrupt mapping as none and accepts billing marks, which have no backendId', async () => {
    const client = await tables.table('affinitybad');
    const reports = sink();
    let now = 1_000;
    const store = createTableAffinityStore({ client, now: () => now }, { onCorrupt: reports.onCorrupt });
    await store.set('resp_abc', 'east', 60_000);
    await store.set('resp_def', 'west', 60_000);
    expect(await store.claimOnce('resp_def', 60_000)).toBe(true);
    await corrupt(client, 're', 'resp_abc', { backendId: 42 });

    expect(await store.get('resp_abc')).toBeUndefined();
    expect(await store.get('resp_def')).toBe('west');
    // A valid billing mark (no backendId) holds: the response is not billed twice.
    expect(await store.claimOnce('resp_def', 60_000)).toBe(false);
    expect(reports.seen.map((e) => e.store)).toEqual(['affinity']);

    // A corrupt mark counts as expired: replaced and billed once, then it holds again.
    await corrupt(client, 'billed~re', 'resp_def', { expiresAtMs: 'never' });
    now += 1;
    expect(await store.claimOnce('resp_def', 60_000)).toBe(true);
    expect(await store.claimOnce('resp_def', 60_000)).toBe(false);
    expect(reports.seen.map((e) => e.store)).toEqual(['affinity', 'billing-mark']);
    await store.set('resp_abc', 'east', 60_000);
    expect(await store.get('resp_abc')).toBe('east');
  });
});

describe('TableCapacityLedger reading a corrupt row (Azurite)', () => {
  const report = (instanceId: string, atMs: number) => ({
    instanceId,
    groups: [{ groupId: 'g', capacity: 4 }],
    demand: [2],
    inUse: 0,
    seq: 1,
    atMs,
  });

  it('starts the pool over from the next report, replacing the row, and reports it', async () => {
    const client = await tables.table('capacitybad');
    const reports = sink();
    const ledger = createTableCapacityLedger({ client }, { onCorrupt: reports.onCorrupt });
    await ledger.report('pool/a', report('i1', 1_000));
    await corrupt(client, CAPACITY_LEDGER_PARTITION, encodeTableKey('pool/a'), {
      state0: '{"version":1,"instances":[',
    });

    expect(await ledger.read('pool/a')).toBeUndefined();
    const answer = await ledger.report('pool/a', report('i2', 2_000));
    expect(answer.grant.length).toBeGreaterThan(0);
    expect(Object.keys((await ledger.read('pool/a'))!.instances)).toEqual(['i2']);
    expect(reports.seen.map((e) => e.key)).toEqual([
      `PartitionKey=${CAPACITY_LEDGER_PARTITION} RowKey=pool%2Fa`,
      `PartitionKey=${CAPACITY_LEDGER_PARTITION} RowKey=pool%2Fa`,
    ]);
  });

  it('leaves a ledger of another format version alone (a newer writer), as before', async () => {
    const client = await tables.table('capacityv2');
    const ledger = createTableCapacityLedger({ client });
    await ledger.report('p', report('i1', 1_000));
    await corrupt(client, CAPACITY_LEDGER_PARTITION, 'p', { state0: '{"version":2}', chunks: 1 });
    await expect(ledger.report('p', report('i1', 2_000))).rejects.toThrow('Unknown capacity ledger version: 2');
  });
});

describe('BlobPayloadStore reading corrupt metadata (Azurite)', () => {
  it('serves the body without the metadata and reports the container and blob', async () => {
    const service = BlobServiceClient.fromConnectionString(requireAzurite().connectionString);
    const container = `payloads-${randomBytes(6).toString('hex')}`;
    const reports = sink();
    const store = createBlobPayloadStore({ service }, { container, onCorrupt: reports.onCorrupt });
    try {
      await store.put('u-1/job/response', one('{"ok":true}'), { contentType: 'application/json' });
      const blob = service.getContainerClient(container).getBlockBlobClient('v1/u-1/job/response');
      await blob.setMetadata({ [PAYLOAD_META_KEY]: encodeURIComponent('{"v":1,"attributes":{"a":7}}') });

      const stored = await store.get('u-1/job/response');
      expect(stored?.meta).toEqual({});
      expect(Buffer.concat(await collect(stored!.body)).toString()).toBe('{"ok":true}');
      expect(reports.seen.map((e) => [e.location, e.key, e.problem])).toEqual([
        [container, 'v1/u-1/job/response', 'attributes.a: Invalid input: expected string, received number'],
      ]);
    } finally {
      await service.getContainerClient(container).deleteIfExists();
    }
  });
});

describe('TableUsageLedger reading a corrupt usage row (Azurite)', () => {
  it('leaves it out of the query, counts it and names its key', async () => {
    const client = await tables.table('usagebad');
    const reports = sink();
    const ledger = createTableUsageLedger({ client }, { flushIntervalMs: 0, onCorrupt: reports.onCorrupt });
    await ledger.append(usageRecordAt('2026-12-01T10:00:00.000Z', { id: 'r-good' }));
    await ledger.append(usageRecordAt('2026-12-01T11:00:00.000Z', { id: 'r-bad' }));
    await ledger.flush();
    const bad = (await client.listEntities({ queryOptions: { filter: "requestId eq 'r-bad'" } }).next()).value!;
    await corrupt(client, bad.partitionKey!, bad.rowKey!, { record: '{"schemaVersion":1,"requestId":' });

    const range = { fromMs: Date.parse('2026-12-01'), toMs: Date.parse('2026-12-02') };
    const found: string[] = [];
    for await (const r of ledger.query(range)) found.push(r.requestId);
    expect(found).toEqual(['r-good']);
    expect(ledger.skippedEntities).toBe(1);
    expect(reports.seen.map((e) => [e.store, e.location, e.key])).toEqual([
      ['usage-ledger', client.tableName, `PartitionKey=${bad.partitionKey} RowKey=${bad.rowKey}`],
    ]);
    await ledger.close();
  });
});

async function* one(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk));
  return parts;
}
