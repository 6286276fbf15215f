import type { TableClient, TableEntity } from '@azure/data-tables';
import { applyReport, leaveLedger, withHolding, type GrantAnswer } from '../../core/scheduling/capacity-grants.js';
import {
  emptyLedger,
  normalizeLedger,
  type CapacityLedgerOptions,
  type InstanceReport,
  type PoolLedger,
} from '../../core/scheduling/capacity-ledger.js';
import type { CapacityLedger, ReportOptions } from '../../ports/capacity-ledger.js';
import { contentionBackoff, isLostRace, statusOf } from './azure-errors.js';
import { createOnce } from './create-once.js';
import { encodeTableKey } from './table-key.js';

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

function fromEntity(entity: LedgerEntity): PoolLedger {
  let json = '';
  for (let i = 0; i < Number(entity.chunks); i++) json += entity[`state${i}`] ?? '';
  return normalizeLedger(JSON.parse(json) as unknown);
}

/**
 * Creates the Azure Table {@link CapacityLedger} for standalone replicas: one row per pool, every change a
 * read → pure `applyReport` → write conditional on the row's ETag, retried on 412/409 — so replicas agree
 * on one ledger however many report at once. `beforeCommit` runs before the write (a replica applies a
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

  const readRow = async (poolId: string): Promise<{ ledger: PoolLedger; etag: string } | undefined> => {
    try {
      const entity = await client.getEntity<LedgerEntity>(CAPACITY_LEDGER_PARTITION, encodeTableKey(poolId));
      return { ledger: fromEntity(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };

  /** Read-modify-write with the ETag; `change` answers the new ledger (undefined: write nothing) and a result. */
  const update = async <R>(
    poolId: string,
    atMs: number,
    change: (current: PoolLedger | undefined) => { next: PoolLedger | undefined; result: R },
  ): Promise<R> => {
    await ensureTable();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const row = await readRow(poolId);
      const { next, result } = change(row?.ledger);
      if (next === undefined) return result;
      try {
        if (row === undefined) await client.createEntity(toEntity(poolId, next, atMs));
        else await client.updateEntity(toEntity(poolId, next, atMs), 'Replace', { etag: row.etag });
        return result;
      } catch (error) {
        if (isLostRace(error)) continue;
        throw error;
      }
    }
    throw new Error(`TableCapacityLedger: pool "${poolId}" lost ${maxAttempts} races in a row`);
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
