import type { TableClient, TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import type { QuotaReserveResult, QuotaStore } from '../../ports/quota-store.js';
import { absentOn404, contentionBackoff } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { encodeTableKey, timeKey } from './table-key.js';
import { createOnce } from './create-once.js';
import { StoredRecordError, type CorruptReadSink } from '../../ports/stored-record-error.js';
import { readStored, tableKeyOf } from './stored-record.js';

/** Dependencies of {@link createTableQuotaStore}. */
export interface TableQuotaStoreDeps {
  /** A client for the quota table (e.g. `GatewayQuota`). */
  readonly client: TableClient;
}

/** Options of {@link createTableQuotaStore}. */
export interface TableQuotaStoreOptions {
  /** Attempts of one operation before it gives up on a contended counter (default 200). */
  readonly maxAttempts?: number;
  /** Create the table on first use when it does not exist (default true). */
  readonly createTable?: boolean;
  /** The pause between lost races (default: jittered, at most 25 ms). */
  readonly backoff?: (attempt: number) => Promise<void>;
  /** Told about every corrupt counter read (counted and logged by the composition). */
  readonly onCorrupt?: CorruptReadSink;
}

/**
 * Stored entity (docs/storage.md, "GatewayQuota"): PK = `encodeTableKey(key)`, RK = `timeKey(windowStartMs)`.
 * `used` is a Double (exact for integers below 2^53).
 */
interface QuotaEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly quotaKey: string;
  readonly windowStartMs: number;
  readonly used: number;
}

/**
 * Creates the Azure Table {@link QuotaStore}: one entity per `(key, window)`, every change a read →
 * ETag-conditional write, retried on 412/409, so a reservation is check-and-add in one step across any
 * number of gateway instances.
 *
 * @example
 * const quotas = createTableQuotaStore({ client: clients.tableClient('GatewayQuota') });
 * const { granted } = await quotas.reserve('profile:batch:minute', windowStartMs, 1_200, 50_000);
 */
export function createTableQuotaStore(deps: TableQuotaStoreDeps, options: TableQuotaStoreOptions = {}): QuotaStore {
  const { client } = deps;
  const maxAttempts = options.maxAttempts ?? 200;
  const backoff = options.backoff ?? ((attempt: number) => contentionBackoff(attempt));
  const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);

  const readCounter = (key: string, windowStartMs: number) =>
    readCounterRow(client, key, windowStartMs, options.onCorrupt);

  /** Read-modify-write with the ETag; `decide` answers the new counter, or undefined to write nothing. */
  const change = async <R>(
    key: string,
    windowStartMs: number,
    decide: (used: number) => { next: number | undefined; result: R },
  ): Promise<R> => {
    await ensureTable();
    return tableReadModifyWrite(client, {
      read: () => readCounter(key, windowStartMs),
      decide: (used) => {
        const { next, result } = decide(used ?? 0);
        return next === undefined ? { result } : { write: counterEntity(key, windowStartMs, next), result };
      },
      maxAttempts,
      backoff,
      describe: `TableQuotaStore: "${key}"`,
    });
  };

  return {
    reserve(key, windowStartMs, amount, limit): Promise<QuotaReserveResult> {
      return change<QuotaReserveResult>(key, windowStartMs, (used) =>
        used === 0 || used + amount <= limit
          ? { next: used + amount, result: { granted: true, used: used + amount } }
          : { next: undefined, result: { granted: false, used } },
      );
    },
    adjust(key, windowStartMs, delta) {
      return change<number>(key, windowStartMs, (used) => {
        const next = Math.max(0, used + delta);
        return { next, result: next };
      });
    },
    async used(key, windowStartMs) {
      await ensureTable();
      return (await readCounter(key, windowStartMs))?.value ?? 0;
    },
  };
}

/** The counter of `(key, window)`; a corrupt one counts from 0 (the next reservation replaces it under its ETag). */
async function readCounterRow(
  client: TableQuotaStoreDeps['client'],
  key: string,
  windowStartMs: number,
  onCorrupt: TableQuotaStoreOptions['onCorrupt'],
): Promise<{ value: number; etag: string } | undefined> {
  const entity = await absentOn404(client.getEntity<QuotaEntity>(encodeTableKey(key), timeKey(windowStartMs)));
  if (entity === undefined) return undefined;
  try {
    return { value: usedOf(entity, client.tableName), etag: entity.etag };
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    // A corrupt counter counts from 0 again rather than failing every call of its callers for the rest of the
    // window (ADR 0039).
    onCorrupt?.(error);
    return { value: 0, etag: entity.etag };
  }
}

function counterEntity(key: string, windowStartMs: number, used: number): QuotaEntity {
  return {
    partitionKey: encodeTableKey(key),
    rowKey: timeKey(windowStartMs),
    schemaVersion: 1,
    quotaKey: key,
    windowStartMs,
    used,
  };
}

const usedSchema = z.number().nonnegative();

/** The `used` column, checked; a {@link StoredRecordError} when it is not a count. */
function usedOf(entity: QuotaEntity, table: string): number {
  const where = { store: 'quota', location: table, key: tableKeyOf(entity.partitionKey, entity.rowKey) };
  if (entity.schemaVersion !== 1) throw new StoredRecordError({ ...where, problem: 'schemaVersion is not 1' });
  return readStored(usedSchema, entity.used, { ...where });
}
