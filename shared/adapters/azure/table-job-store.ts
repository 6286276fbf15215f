import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import type { JobPatch, JobRecord, JobStatus, JobStore, JobTransitionResult } from '../../ports/job-store.js';
import { absentOn404, statusOf } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { encodeTableKey, timeKey } from './table-key.js';
import { createOnce } from './create-once.js';
import type { CorruptReadSink, StoredRecordOwner } from '../../ports/stored-record-error.js';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import { readStored, readStoredJson, tableKeyOf } from './stored-record.js';
import { jobOwnerSchema, jobRecordSchema } from './schemas/job-record-schema.js';

/** The `RowKey` of a job entity (format version 1). */
export const JOB_ROW_KEY = 'job.v1';

/** Dependencies of {@link createTableJobStore}. */
export interface TableJobStoreDeps {
  /** A client for the jobs table (e.g. `GatewayJobs`). */
  readonly client: TableClient;
}

/** Options of {@link createTableJobStore}. */
export interface TableJobStoreOptions {
  /** Create the table on first use when it does not exist (default true). */
  readonly createTable?: boolean;
  /** Re-reads of one transition after lost ETag races before it gives up (default 50). */
  readonly maxAttempts?: number;
  /** Told about every corrupt job entity read (counted and logged by the composition). */
  readonly onCorrupt?: CorruptReadSink;
}

/**
 * Stored entity (docs/storage.md, "GatewayJobs"): PK = `encodeTableKey(id)`, RK = `job.v1`. `job` is
 * the whole {@link JobRecord} as JSON minus `version` (the source of truth, unknown fields kept); the
 * other columns are copies for queries (`expiresAt` is `timeKey(expiresAtMs)`, a string so that the
 * sweep's range filter compares reliably).
 */
interface JobEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly job: string;
  readonly version: number;
  readonly status: string;
  readonly ownerUserId: string;
  readonly expiresAt: string;
  readonly updatedAtMs: number;
}

const PATCHABLE = [
  'status',
  'startedAtMs',
  'finishedAtMs',
  'expiresAtMs',
  'runningUntilMs',
  'attempts',
  'lastError',
  'usage',
  'response',
  'cancelRequestedAtMs',
  'updatedAtMs',
] as const;

/**
 * Creates the Azure Table {@link JobStore}: one entity per job (its own partition, so jobs never
 * contend with each other), every transition a read → condition check → ETag-conditional replace. Of
 * concurrent transitions from one state exactly one write carries the current ETag; the others get
 * 412, re-read, find the condition no longer holds and answer `applied: false` with the winner's record.
 *
 * `listExpired` is a filtered scan (`expiresAt le …`): Table cannot order by a property, so it returns
 * the first `limit` matches it finds, sorted by `expiresAtMs` — fine for a sweep that runs until empty.
 *
 * @example
 * const jobs = createTableJobStore({ client: clients.tableClient('GatewayJobs') });
 * const { applied } = await jobs.transition(id, ['queued'], { status: 'running', updatedAtMs: now, attempts: 1 });
 */
export function createTableJobStore(deps: TableJobStoreDeps, options: TableJobStoreOptions = {}): JobStore {
  const { client } = deps;
  const store: JobStoreContext = {
    client,
    maxAttempts: options.maxAttempts ?? 50,
    ensureTable: createOnce(() => client.createTable(), options.createTable !== false),
    onCorrupt: options.onCorrupt,
  };
  return {
    create: (job) => createJob(store, job),
    async get(id) {
      await store.ensureTable();
      return (await readJob(store, id))?.value;
    },
    transition: (id, from, patch, transitionOptions) => transitionJob(store, id, from, patch, transitionOptions),
    listExpired: (nowMs, limit) => listExpiredJobs(store, nowMs, limit),
    async delete(id) {
      await store.ensureTable();
      try {
        await client.deleteEntity(encodeTableKey(id), JOB_ROW_KEY);
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw error;
      }
    },
  };
}

/** What the store's operations share. */
interface JobStoreContext {
  readonly client: TableClient;
  readonly maxAttempts: number;
  readonly ensureTable: () => Promise<void>;
  readonly onCorrupt: CorruptReadSink | undefined;
}

/** The entity's record; a corrupt one is reported to `onCorrupt` and thrown as a {@link StoredRecordError}. */
function checkedJob(store: JobStoreContext, entity: JobEntity): JobRecord {
  try {
    return fromEntity(entity, store.client.tableName);
  } catch (error) {
    if (error instanceof StoredRecordError) store.onCorrupt?.(error);
    throw error;
  }
}

// A corrupt entity throws a StoredRecordError (with the owner it still names): the engine answers its
// owner 410 GW_ERR_JOB_RECORD_UNREADABLE and its worker dead-letters the message (ADR 0039).
async function readJob(store: JobStoreContext, id: string): Promise<{ value: JobRecord; etag: string } | undefined> {
  const entity = await absentOn404(store.client.getEntity<JobEntity>(encodeTableKey(id), JOB_ROW_KEY));
  return entity === undefined ? undefined : { value: checkedJob(store, entity), etag: entity.etag };
}

async function createJob(store: JobStoreContext, job: JobRecord): Promise<JobRecord> {
  await store.ensureTable();
  const stored: JobRecord = { ...structuredClone(job), version: 1 };
  try {
    await store.client.createEntity(toEntity(stored));
  } catch (error) {
    if (statusOf(error) === 409) throw new Error(`Job ${job.id} already exists.`, { cause: error });
    throw error;
  }
  return structuredClone(stored);
}

async function transitionJob(
  store: JobStoreContext,
  id: string,
  from: readonly JobStatus[],
  patch: JobPatch,
  transitionOptions?: { readonly ifVersion?: number },
): Promise<JobTransitionResult> {
  await store.ensureTable();
  return tableReadModifyWrite<JobRecord, JobTransitionResult>(store.client, {
    read: () => readJob(store, id),
    decide: (current) => {
      if (current === undefined) return { result: { applied: false, job: undefined } };
      if (
        !from.includes(current.status) ||
        (transitionOptions?.ifVersion !== undefined && current.version !== transitionOptions.ifVersion)
      ) {
        return { result: { applied: false, job: current } };
      }
      const next = applyPatch(current, patch);
      return { write: toEntity(next), result: { applied: true, job: structuredClone(next) } };
    },
    maxAttempts: store.maxAttempts,
    // 404: deleted in between — the next read answers "no such job".
    retryWhenGone: true,
    describe: `TableJobStore: transition of ${id}`,
  });
}

async function listExpiredJobs(store: JobStoreContext, nowMs: number, limit: number): Promise<JobRecord[]> {
  await store.ensureTable();
  if (limit <= 0) return [];
  const found: JobRecord[] = [];
  const pages = store.client
    .listEntities<JobEntity>({
      queryOptions: { filter: odata`RowKey eq ${JOB_ROW_KEY} and expiresAt le ${timeKey(nowMs)}` },
    })
    .byPage({ maxPageSize: Math.min(1_000, Math.max(limit, 10)) });
  for await (const page of pages) {
    for (const entity of page) {
      // A corrupt entity is reported and skipped: one bad row must not stop the sweep of the others.
      let job: JobRecord;
      try {
        job = checkedJob(store, entity);
      } catch (error) {
        if (error instanceof StoredRecordError) continue;
        throw error;
      }
      if (job.expiresAtMs <= nowMs) found.push(job);
    }
    if (found.length >= limit) break;
  }
  return found.sort((a, b) => a.expiresAtMs - b.expiresAtMs).slice(0, limit);
}

function applyPatch(job: JobRecord, patch: JobPatch): JobRecord {
  const next: Record<string, unknown> = structuredClone(job) as unknown as Record<string, unknown>;
  for (const field of PATCHABLE) {
    const value = (patch as Record<string, unknown>)[field];
    if (value !== undefined) next[field] = structuredClone(value);
  }
  next.version = job.version + 1;
  return next as unknown as JobRecord;
}

function toEntity(job: JobRecord): JobEntity {
  const { version, ...rest } = job;
  return {
    partitionKey: encodeTableKey(job.id),
    rowKey: JOB_ROW_KEY,
    schemaVersion: 1,
    job: JSON.stringify(rest),
    version,
    status: job.status,
    ownerUserId: job.owner.userId.slice(0, 1_024),
    expiresAt: timeKey(job.expiresAtMs),
    updatedAtMs: job.updatedAtMs,
  };
}

const versionSchema = z.number().int().positive();

/** The record of an entity, checked against {@link jobRecordSchema}; a {@link StoredRecordError} when corrupt. */
function fromEntity(entity: JobEntity, table: string): JobRecord {
  const where = { store: 'jobs', location: table, key: tableKeyOf(entity.partitionKey, entity.rowKey) };
  try {
    if (entity.schemaVersion !== 1) throw new StoredRecordError({ ...where, problem: 'schemaVersion is not 1' });
    const version = readStored(versionSchema, entity.version, where);
    return { ...readStoredJson(jobRecordSchema, entity.job, where), version };
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    throw new StoredRecordError({ ...where, problem: error.problem, owner: ownerOf(entity) });
  }
}

/** The owner a corrupt entity still names (its `job` JSON's, else the `ownerUserId` column), if any. */
function ownerOf(entity: JobEntity): StoredRecordOwner | undefined {
  try {
    const owner = jobOwnerSchema.safeParse((JSON.parse(entity.job) as { owner?: unknown }).owner);
    if (owner.success) return owner.data;
  } catch {
    // Not JSON: fall back to the column.
  }
  const userId: unknown = entity.ownerUserId;
  return typeof userId === 'string' && userId !== '' ? { userId } : undefined;
}
