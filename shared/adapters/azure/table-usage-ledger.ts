import { odata, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { parseUsageRecord, type UsageRecord } from '../../core/usage/usage-record.js';
import type { UsageLedger, UsageQuery } from '../../ports/usage-ledger.js';
import { encodeTableKey, MAX_KEY_TIME_MS, timeKey } from './table-key.js';
import { createOnce } from './create-once.js';
import { StoredRecordError, type CorruptReadSink } from '../../ports/stored-record-error.js';
import { tableKeyOf } from './stored-record.js';
import { BatchWriteError, createBufferedBatchWriter, type BufferedBatchWriter } from '../buffered-batch-writer.js';

/** Dependencies of {@link createTableUsageLedger}. */
export interface TableUsageLedgerDeps {
  /** A client for the ledger table (e.g. `GatewayUsage`). */
  readonly client: TableClient;
}

/** Options of {@link createTableUsageLedger}. */
export interface TableUsageLedgerOptions {
  /** Buffered records that trigger a background write (default 100). */
  readonly flushEveryRecords?: number;
  /** Hard bound on buffered records; past it `append` waits for the write in flight (default 10,000). */
  readonly maxBufferedRecords?: number;
  /** Background write interval so quiet periods still reach the table (default 1,000 ms; 0 = none). */
  readonly flushIntervalMs?: number;
  /** Entity-group transactions written in parallel during a flush (default 8). */
  readonly maxParallelBatches?: number;
  /** Receives background write errors (the records stay buffered and are retried on the next flush). */
  readonly onError?: (error: unknown) => void;
  /** Create the table on first use when it does not exist (default true). */
  readonly createTable?: boolean;
  /**
   * A caller's day is read with one point-partition query per day up to this many days; longer ranges use one range
   * scan (default 62).
   */
  readonly maxPerDayQueries?: number;
  /**
   * Keeps the records still unwritten when `close` gives up (the table unreachable), answering where they
   * went (e.g. `usageSpillFile`). Without it `close` rejects with the write error and the records are lost.
   */
  readonly spill?: (records: UsageRecord[]) => Promise<string>;
  /** Told how many records were spilled and where. */
  readonly onSpilled?: (count: number, where: string) => void;
  /** Writes tried by `close` before it spills (default 2), the first 1 s apart, doubling. */
  readonly closeAttempts?: number;
  readonly closeRetryDelayMs?: number;
  /** Told about every entity a query skips because it holds no readable record (counted and logged). */
  readonly onCorrupt?: CorruptReadSink;
}

/** The Table ledger, with its counters. */
export interface TableUsageLedger extends UsageLedger {
  /** Records accepted but not yet written. */
  readonly bufferedRecords: number;
  /** Entities skipped by queries because they did not hold a readable version-1 record. */
  readonly skippedEntities: number;
}

/** Characters per `record*` property: Table strings hold at most 64 KiB (32 K UTF-16 code units). */
const PART_CHARS = 30_000;
/** Longest flat string column; the record itself is never cut. */
const FLAT_COLUMN_CHARS = 1_024;
/** Parts per entity: keeps an entity well under Table's 1 MiB and 252 properties. */
const MAX_PARTS = 28;
/** An entity-group transaction holds at most 100 entities and 4 MiB; we stop well short of the bytes. */
const MAX_BATCH_ENTITIES = 100;
const MAX_BATCH_CHARS = 1_500_000;

/**
 * Stored entity (docs/storage.md, "GatewayUsage", key version 1):
 * PK = `{yyyymmdd}|u:{encodeTableKey(userId)}` (or `{yyyymmdd}|-` for no user), RK =
 * `{timeKey(timestampMs)}|{encodeTableKey(requestId)}`.
 * `record` (+ `record1`… when longer than 30,000 characters) holds the whole {@link UsageRecord} as
 * JSON — the source of truth; the other columns are flat copies for ad-hoc queries and exports.
 */
type UsageEntity = TableEntity<Record<string, string | number | boolean>>;

/**
 * Creates the Azure Table {@link UsageLedger}. One caller's day is one partition (a single range
 * query); everyone in a time range is one contiguous partition-key range scan with a row-key time
 * filter. Appends are buffered (bounded) and written in entity-group transactions per partition,
 * as idempotent upserts, so a retried batch never duplicates a record.
 *
 * Ordering: a query for one caller yields records in `timestampMs` order; a query over every caller
 * yields them by day, then caller, then time (Table orders by PartitionKey, RowKey). Chargeback sums,
 * so this is documented rather than re-sorted in memory.
 *
 * @example
 * const ledger = createTableUsageLedger(
 *   { client: clients.tableClient('GatewayUsage') },
 *   { onError: (e) => telemetry.exception(e) },
 * );
 * void ledger.append(record);
 * for await (const r of ledger.query({ fromMs, toMs, userId: 'alice' })) total += r.tokens.totalTokens;
 */
export function createTableUsageLedger(
  deps: TableUsageLedgerDeps,
  options: TableUsageLedgerOptions = {},
): TableUsageLedger {
  const { client } = deps;
  const parallel = Math.max(1, options.maxParallelBatches ?? 8);
  const ledger: LedgerContext = {
    client,
    options,
    maxPerDay: options.maxPerDayQueries ?? 62,
    ensureTable: createOnce(() => client.createTable(), options.createTable !== false),
    skipped: 0,
  };
  let closed = false;
  const writer = createBufferedBatchWriter<UsageEntity>({
    flushEvery: options.flushEveryRecords,
    maxBuffered: options.maxBufferedRecords,
    intervalMs: options.flushIntervalMs,
    onError: options.onError,
    write: (batch) => writeBatch(ledger, parallel, batch),
  });
  const flush = (): Promise<void> => writer.flush();

  return {
    get bufferedRecords() {
      return writer.buffered;
    },
    get skippedEntities() {
      return ledger.skipped;
    },
    async append(record) {
      if (closed) throw new Error('The usage ledger is closed.');
      await writer.add(toEntity(record));
    },
    async *query(query: UsageQuery) {
      await flush();
      await ledger.ensureTable();
      yield* queryRange(ledger, query);
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      await closeOrSpill(writer, options);
    },
  };
}

/** What the ledger's writes and reads share; `skipped` counts entities queries could not read. */
interface LedgerContext {
  readonly client: TableClient;
  readonly options: TableUsageLedgerOptions;
  readonly maxPerDay: number;
  readonly ensureTable: () => Promise<void>;
  skipped: number;
}

/**
 * Entity-group transactions per partition, `parallel` at a time; the entities of failed ones go back to the
 * front of the buffer (upserts, so a retried batch never duplicates a record).
 */
async function writeBatch(ledger: LedgerContext, parallel: number, batch: UsageEntity[]): Promise<UsageEntity[]> {
  const failed: UsageEntity[] = [];
  let firstError: unknown;
  try {
    await ledger.ensureTable();
    const groups = toTransactions(batch);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length) {
        const group = groups[next++]!;
        try {
          await ledger.client.submitTransaction(
            group.map((entity): TransactionAction => ['upsert', entity, 'Replace']),
          );
        } catch (error) {
          firstError ??= error;
          failed.push(...group);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, groups.length) }, worker));
  } catch (error) {
    throw new BatchWriteError(batch, { cause: error });
  }
  if (failed.length > 0) throw new BatchWriteError(failed, { cause: firstError });
  return [];
}

/** The readable records `filter` matches; an entity without one is counted, reported and skipped. */
async function* readRecords(ledger: LedgerContext, filter: string): AsyncGenerator<UsageRecord> {
  const { client } = ledger;
  for await (const entity of client.listEntities<UsageEntity>({ queryOptions: { filter } })) {
    const record = fromEntity(entity);
    if (record !== undefined) {
      yield record;
      continue;
    }
    ledger.skipped++;
    // A chargeback that silently leaves a row out is under-billing nobody sees: name the row.
    const key = tableKeyOf(entity.partitionKey, entity.rowKey);
    const problem = 'no readable version-1 usage record in record*';
    ledger.options.onCorrupt?.(
      new StoredRecordError({ store: 'usage-ledger', location: client.tableName, key, problem }),
    );
  }
}

/** The records of `query` (written ones only: the caller flushes first). */
async function* queryRange(ledger: LedgerContext, query: UsageQuery): AsyncGenerator<UsageRecord> {
  const fromMs = Math.max(0, query.fromMs);
  const toMs = Math.min(MAX_KEY_TIME_MS + 1, query.toMs);
  if (toMs <= fromMs) return;
  const firstDay = dayKey(fromMs);
  const lastDay = dayKey(toMs - 1);
  const rowRange = odata`RowKey ge ${timeKey(fromMs)} and RowKey lt ${timeKey(toMs)}`;
  const inRange = (r: UsageRecord): boolean =>
    r.timestampMs >= query.fromMs &&
    r.timestampMs < query.toMs &&
    (query.userId === undefined || r.caller.userId === query.userId);
  const days = dayCount(fromMs, toMs - 1);
  if (query.userId !== undefined && days <= ledger.maxPerDay) {
    // One caller's days: one point-partition range query per day.
    for (let day = startOfDay(fromMs); day < toMs; day += DAY_MS) {
      const pk = partitionKey(dayKey(day), query.userId);
      for await (const r of readRecords(ledger, `${odata`PartitionKey eq ${pk}`} and ${rowRange}`)) {
        if (inRange(r)) yield r;
      }
    }
    return;
  }
  // Everyone (or a caller over a long range): one contiguous partition range, filtered by row key.
  let filter = `${odata`PartitionKey ge ${`${firstDay}|`} and PartitionKey lt ${`${lastDay}}`}`} and ${rowRange}`;
  if (query.userId !== undefined && query.userId.length <= FLAT_COLUMN_CHARS)
    filter += ` and ${odata`userId eq ${query.userId}`}`;
  for await (const r of readRecords(ledger, filter)) if (inRange(r)) yield r;
}

/**
 * Closes the writer, retrying the final write (`closeAttempts`, backoff from `closeRetryDelayMs`); when the
 * table still cannot be written, hands the unwritten records to `spill` — a stop never loses them.
 */
async function closeOrSpill(writer: BufferedBatchWriter<UsageEntity>, options: TableUsageLedgerOptions): Promise<void> {
  const attempts = Math.max(1, options.closeAttempts ?? 2);
  let delayMs = options.closeRetryDelayMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await writer.close();
      return;
    } catch (error) {
      if (options.spill === undefined) throw error;
      if (attempt >= attempts) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs *= 2;
    }
  }
  const records = writer.takeAll().flatMap((entity) => fromEntity(entity) ?? []);
  const where = await options.spill(records);
  options.onSpilled?.(records.length, where);
}

const DAY_MS = 86_400_000;

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function dayCount(fromMs: number, lastMs: number): number {
  return Math.floor(lastMs / DAY_MS) - Math.floor(fromMs / DAY_MS) + 1;
}

/** `yyyymmdd` of the UTC day holding `ms`. */
function dayKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

function partitionKey(day: string, userId: string | null): string {
  return userId === null ? `${day}|-` : `${day}|u:${encodeTableKey(userId)}`;
}

function toEntity(record: UsageRecord): UsageEntity {
  const json = JSON.stringify(record);
  const parts = Math.max(1, Math.ceil(json.length / PART_CHARS));
  if (parts > MAX_PARTS)
    throw new Error(`Usage record ${record.requestId} is too large for a Table entity (${json.length} characters).`);
  const entity: UsageEntity = {
    partitionKey: partitionKey(
      dayKey(Math.min(MAX_KEY_TIME_MS, Math.max(0, record.timestampMs))),
      record.caller.userId,
    ),
    rowKey: `${timeKey(record.timestampMs)}|${encodeTableKey(record.requestId)}`,
    schemaVersion: record.schemaVersion,
    recordParts: parts,
  };
  for (let i = 0; i < parts; i++)
    entity[i === 0 ? 'record' : `record${i}`] = json.slice(i * PART_CHARS, (i + 1) * PART_CHARS);
  const flat: Record<string, string | number | boolean | null | undefined> = {
    requestId: record.requestId,
    timestampMs: record.timestampMs,
    userId: record.caller.userId,
    appId: record.caller.appId,
    profileId: record.caller.profileId,
    tier: record.caller.tier,
    priority: record.priority,
    route: record.route,
    api: record.api,
    stream: record.stream,
    modelRequested: record.modelRequested,
    modelServed: record.modelServed,
    backend: record.backend?.name,
    backendGroup: record.backend?.group,
    httpStatus: record.httpStatus,
    outcome: record.outcome,
    promptTokens: record.tokens.promptTokens,
    completionTokens: record.tokens.completionTokens,
    totalTokens: record.tokens.totalTokens,
    cachedInputTokens: record.tokens.cachedInputTokens,
    reasoningTokens: record.tokens.reasoningTokens,
    tokenSource: record.tokens.source,
    totalMs: record.timings.totalMs,
  };
  // Table has no null: absent columns mean null. Flat copies are for filtering; long strings are cut
  // (the full value is in `record`).
  for (const [name, value] of Object.entries(flat)) {
    if (value === null || value === undefined) continue;
    entity[name] =
      typeof value === 'string' && value.length > FLAT_COLUMN_CHARS ? value.slice(0, FLAT_COLUMN_CHARS) : value;
  }
  return entity;
}

function fromEntity(entity: UsageEntity): UsageRecord | undefined {
  const parts = Number(entity.recordParts ?? 1);
  let json = '';
  for (let i = 0; i < parts; i++) {
    const part = entity[i === 0 ? 'record' : `record${i}`];
    if (typeof part !== 'string') return undefined;
    json += part;
  }
  try {
    return parseUsageRecord(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** Groups entities by partition into entity-group transactions within Table's limits, keeping append order. */
function toTransactions(entities: readonly UsageEntity[]): UsageEntity[][] {
  const byPartition = new Map<string, UsageEntity[][]>();
  const sizes = new Map<UsageEntity[], number>();
  for (const entity of entities) {
    let groups = byPartition.get(entity.partitionKey);
    if (groups === undefined) byPartition.set(entity.partitionKey, (groups = []));
    const size = JSON.stringify(entity).length;
    let last = groups[groups.length - 1];
    // A retried record appears once per transaction: an entity group may not touch a row twice.
    if (
      last === undefined ||
      last.length >= MAX_BATCH_ENTITIES ||
      (sizes.get(last) ?? 0) + size > MAX_BATCH_CHARS ||
      last.some((e) => e.rowKey === entity.rowKey)
    ) {
      last = [];
      groups.push(last);
    }
    last.push(entity);
    sizes.set(last, (sizes.get(last) ?? 0) + size);
  }
  return [...byPartition.values()].flat();
}
