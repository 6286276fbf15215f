import type { TableClient, TableEntity } from '@azure/data-tables';
import { applyReport, leaveLedger, withHolding, type GrantAnswer } from '../../core/scheduling/capacity-grants.js';
import {
  emptyLedger,
  type CapacityLedgerOptions,
  type InstanceReport,
  type PoolLedger,
} from '../../core/scheduling/capacity-ledger.js';
import type { CapacityLedger, ReportOptions } from '../../ports/capacity-ledger.js';
import { absentOn404, contentionBackoff } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { createOnce } from './create-once.js';
import { encodeTableKey } from './table-key.js';
import { StoredRecordError, type CorruptReadSink } from '../../ports/stored-record-error.js';
import { readStoredLedger } from './schemas/pool-ledger-schema.js';
import { tableKeyOf } from './stored-record.js';

/** The `PartitionKey` of every ledger row (format version 1). */
export const CAPACITY_LEDGER_PARTITION = 'capacity-ledger.v1';

/** Characters per state column: a Table string property holds 64 KiB (32 K UTF-16 characters). */
const CHUNK_CHARS = 30_000;
/** State columns at most (≈ 450 K characters, within the 1 MiB entity limit). */
const MAX_CHUNKS = 15;

/** Dependencies of {@link createTableCapacityLedger}. */
export interface TableCapacityLedgerDeps {
  /** A client for the ledger table (e.g. `GatewayCapacity`). */
  readonly client: TableClient;
}

/** Options of {@link createTableCapacityLedger}. */
export interface TableCapacityLedgerOptions {
  /** Attempts of one change before it gives up on a contended row (default 50). */
  readonly maxAttempts?: number;
  /** Create the table on first use when it does not exist (default true). */
  readonly createTable?: boolean;
  /** The pause between lost races (default: jittered, at most 25 ms). */
  readonly backoff?: (attempt: number) => Promise<void>;
  /** Told about every corrupt ledger row read (counted and logged by the composition). */
  readonly onCorrupt?: CorruptReadSink;
}

/**
 * Stored entity (docs/storage.md, "GatewayCapacity"): PK = {@link CAPACITY_LEDGER_PARTITION}, RK =
 * `encodeTableKey(poolId)`. The ledger (`PoolLedger` JSON) is split over `state0…stateN` (`chunks` of
 * them); `revision`, `instances` and `updatedAtMs` mirror it for Storage Explorer.
 */
interface LedgerEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly poolId: string;
  readonly chunks: number;
  readonly revision: number;
  readonly instances: number;
  readonly updatedAtMs: number;
  readonly [state: `state${number}`]: string;
}

function toEntity(poolId: string, ledger: PoolLedger, atMs: number): LedgerEntity {
  const json = JSON.stringify(ledger);
  const chunks = Math.max(1, Math.ceil(json.length / CHUNK_CHARS));
  if (chunks > MAX_CHUNKS)
    throw new RangeError(`capacity ledger of pool "${poolId}" is ${json.length} characters, above the row limit`);
  const entity: Record<string, unknown> = {
    partitionKey: CAPACITY_LEDGER_PARTITION,
    rowKey: encodeTableKey(poolId),
    schemaVersion: 1,
    poolId,
    chunks,
    revision: ledger.revision ?? 0,
    instances: Object.keys(ledger.instances).length,
    updatedAtMs: atMs,
  };
  for (let i = 0; i < chunks; i++) entity[`state${i}`] = json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  return entity as LedgerEntity;
}

/** The ledger of a row, checked; a {@link StoredRecordError} when corrupt, a `RangeError` for another version. */
function fromEntity(entity: LedgerEntity, table: string): PoolLedger {
  const where = { store: 'capacity-ledger', location: table, key: tableKeyOf(entity.partitionKey, entity.rowKey) };
  const chunks = Number(entity.chunks);
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > MAX_CHUNKS)
    throw new StoredRecordError({ ...where, problem: 'chunks is not a state column count' });
  let json = '';
  for (let i = 0; i < chunks; i++) {
    const part: unknown = entity[`state${i}`];
    if (typeof part !== 'string') throw new StoredRecordError({ ...where, problem: `state${i} is missing` });
    json += part;
  }
  let state: unknown;
  try {
    state = JSON.parse(json);
  } catch {
    throw new StoredRecordError({ ...where, problem: `not JSON (${json.length} characters)` });
  }
  return readStoredLedger(state, where);
}

/**
 * The row of a pool. A corrupt row reads as no ledger yet: the next report rebuilds it from the instances'
 * reports and replaces the row under its ETag (ADR 0039) — a stuck row would leave every instance "unreachable".
 */
async function readLedgerRow(
  client: TableCapacityLedgerDeps['client'],
  poolId: string,
  onCorrupt: TableCapacityLedgerOptions['onCorrupt'],
): Promise<{ ledger: PoolLedger | undefined; etag: string } | undefined> {
  const entity = await absentOn404(client.getEntity<LedgerEntity>(CAPACITY_LEDGER_PARTITION, encodeTableKey(poolId)));
  if (entity === undefined) return undefined;
  try {
    return { ledger: fromEntity(entity, client.tableName), etag: entity.etag };
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    onCorrupt?.(error);
    return { ledger: undefined, etag: entity.etag };
  }
}

/**
 * Creates the Azure Table {@link CapacityLedger} for standalone replicas: one row per pool, every change a
 * read → pure `applyReport` → write conditional on the row's ETag, retried on 412/409
 * (`tableReadModifyWrite`, as in every Table adapter) — so replicas agree on one ledger however many report
 * at once. `beforeCommit` runs before the write (a replica applies a
 * lowered grant before anyone can count on the room it gives up).
 *
 * @example
 * const ledger = createTableCapacityLedger({ client: clients.tableClient('GatewayCapacity') });
 * const answer = await ledger.report('gpt-4o', report);
 */
export function createTableCapacityLedger(
  deps: TableCapacityLedgerDeps,
  options: TableCapacityLedgerOptions = {},
): CapacityLedger {
  const { client } = deps;
  const maxAttempts = options.maxAttempts ?? 50;
  const backoff = options.backoff ?? ((attempt: number) => contentionBackoff(attempt));
  const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);

  const readRow = (poolId: string) => readLedgerRow(client, poolId, options.onCorrupt);

  /** Read-modify-write with the ETag; `change` answers the new ledger (undefined: write nothing) and a result. */
  const update = async <R>(
    poolId: string,
    atMs: number,
    change: (current: PoolLedger | undefined) => { next: PoolLedger | undefined; result: R },
  ): Promise<R> => {
    await ensureTable();
    // A corrupt row is read as "no ledger" but keeps its ETag, so the rebuilt ledger replaces it.
    return tableReadModifyWrite<PoolLedger | undefined, R>(client, {
      read: async () => {
        const row = await readRow(poolId);
        return row === undefined ? undefined : { value: row.ledger, etag: row.etag };
      },
      decide: (current) => {
        const { next, result } = change(current);
        return { write: next === undefined ? undefined : toEntity(poolId, next, atMs), result };
      },
      maxAttempts,
      backoff,
      describe: `TableCapacityLedger: pool "${poolId}"`,
    });
  };

  return {
    report(poolId: string, report: InstanceReport, reportOptions: ReportOptions = {}): Promise<GrantAnswer> {
      return update(poolId, report.atMs, (current) => {
        const { ledger, answer } = applyReport(current ?? emptyLedger(), report, reportOptions.ledger);
        const holding = reportOptions.beforeCommit?.(answer.grant);
        return {
          next: holding === undefined ? ledger : withHolding(ledger, report.instanceId, holding),
          result: answer,
        };
      });
    },
    leave(poolId: string, instanceId: string, atMs: number, ledgerOptions: CapacityLedgerOptions = {}) {
      return update(poolId, atMs, (current) => ({
        next:
          current?.instances[instanceId] === undefined
            ? undefined
            : leaveLedger(current, instanceId, atMs, ledgerOptions).ledger,
        result: undefined,
      }));
    },
    async read(poolId: string) {
      await ensureTable();
      return (await readRow(poolId))?.ledger;
    },
  };
}
