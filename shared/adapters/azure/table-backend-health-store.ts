import type { TableClient, TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import type { BackendHealth, BackendHealthStore } from '../../ports/backend-health-store.js';
import { absentOn404, contentionBackoff } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { encodeTableKey } from './table-key.js';
import { createOnce } from './create-once.js';
import { StoredRecordError, type CorruptReadSink } from '../../ports/stored-record-error.js';
import { readStored, readStoredJson, tableKeyOf } from './stored-record.js';
import { backendHealthSchema } from './schemas/backend-health-schema.js';

/** The `PartitionKey` every health entity lives under (format version 1). */
export const BACKEND_HEALTH_PARTITION = 'backend-health.v1';

/** Dependencies of {@link createTableBackendHealthStore}. */
export interface TableBackendHealthStoreDeps {
  /** A client for the health table (e.g. `GatewayBackendHealth`); see `azure-clients.ts`. */
  readonly client: TableClient;
}

/** Options of {@link createTableBackendHealthStore}. */
export interface TableBackendHealthStoreOptions {
  /** Attempts of one `update` before it gives up on a contended record (default 100). */
  readonly maxUpdateAttempts?: number;
  /** Create the table on first use when it does not exist (default true; infra creates it in production). */
  readonly createTable?: boolean;
  /** The pause between lost races (default: jittered, at most 25 ms). */
  readonly backoff?: (attempt: number) => Promise<void>;
  /** Told about every corrupt health entity read (counted and logged by the composition). */
  readonly onCorrupt?: CorruptReadSink;
}

/**
 * Stored entity (docs/storage.md, "GatewayBackendHealth"). `health` is the source of truth: the whole
 * {@link BackendHealth} as JSON, minus `version`, so fields added by newer writers survive a
 * read-modify-write by older ones. The other columns mirror it for Storage Explorer and ad-hoc queries.
 */
interface HealthEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly backendId: string;
  readonly health: string;
  readonly version: number;
  readonly breakerState: string;
  readonly openUntilMs?: number;
  readonly coolingUntilMs?: number;
  readonly updatedAtMs: number;
}

/** A row as read: its record (none when corrupt) and the version the next write counts up from. */
interface StoredHealth {
  readonly health: BackendHealth | undefined;
  readonly version: number;
}

/**
 * Creates the Azure Table {@link BackendHealthStore}: one entity per backend, written only with the
 * entity's ETag (`updateEntity(…, 'Replace', { etag })`, or `createEntity` for a new backend), so that
 * instances that race lose with 412/409, re-read and re-apply their pure `mutate`. Reads always go to
 * the table: the short-lived cache belongs to the core `HealthTracker`.
 *
 * @example
 * const store = createTableBackendHealthStore({ client: clients.tableClient('GatewayBackendHealth') });
 * await store.update('aoai-east', (current) => current?.breaker.state === 'open' ? undefined : opened(now));
 */
export function createTableBackendHealthStore(
  deps: TableBackendHealthStoreDeps,
  options: TableBackendHealthStoreOptions = {},
): BackendHealthStore {
  const { client } = deps;
  const maxAttempts = options.maxUpdateAttempts ?? 100;
  const backoff = options.backoff ?? ((attempt: number) => contentionBackoff(attempt));
  const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);

  // A corrupt entity reads as "no record" (the backend counts as healthy, as one never seen) and is
  // reported; the next state change replaces it under its ETag (ADR 0039). One bad row must not fail calls.
  const readOne = async (backendId: string): Promise<{ value: StoredHealth; etag: string } | undefined> => {
    const rowKey = encodeTableKey(backendId);
    const entity = await absentOn404(client.getEntity<HealthEntity>(BACKEND_HEALTH_PARTITION, rowKey));
    if (entity === undefined) return undefined;
    try {
      const health = fromEntity(entity, client.tableName);
      return { value: { health, version: health.version }, etag: entity.etag };
    } catch (error) {
      if (!(error instanceof StoredRecordError)) throw error;
      options.onCorrupt?.(error);
      // The replacement's version still grows past the corrupt row's, so instances that saw it take it.
      const seen = Number(entity.version);
      return { value: { health: undefined, version: Number.isSafeInteger(seen) ? seen : 0 }, etag: entity.etag };
    }
  };

  return {
    async read(backendIds) {
      await ensureTable();
      const unique = [...new Set(backendIds)];
      const found = await Promise.all(unique.map(async (id) => [id, await readOne(id)] as const));
      const out = new Map<string, BackendHealth>();
      for (const [id, hit] of found) if (hit?.value.health !== undefined) out.set(id, hit.value.health);
      return out;
    },

    async update(backendId, mutate) {
      await ensureTable();
      return tableReadModifyWrite<StoredHealth, BackendHealth | undefined>(client, {
        read: () => readOne(backendId),
        decide: (read) => {
          const current = read?.health;
          const next = mutate(current === undefined ? undefined : structuredClone(current));
          if (next === undefined) return { result: current };
          const stored: BackendHealth = { ...structuredClone(next), version: (read?.version ?? 0) + 1 };
          return { write: toEntity(backendId, stored), result: structuredClone(stored) };
        },
        maxAttempts,
        backoff,
        describe: `TableBackendHealthStore: update of "${backendId}"`,
      });
    },
  };
}

function toEntity(backendId: string, record: BackendHealth): HealthEntity {
  const { version, ...rest } = record;
  return {
    partitionKey: BACKEND_HEALTH_PARTITION,
    rowKey: encodeTableKey(backendId),
    schemaVersion: 1,
    backendId,
    health: JSON.stringify(rest),
    version,
    breakerState: record.breaker.state,
    ...(record.breaker.openUntilMs === undefined ? {} : { openUntilMs: record.breaker.openUntilMs }),
    ...(record.coolingUntilMs === undefined ? {} : { coolingUntilMs: record.coolingUntilMs }),
    updatedAtMs: record.updatedAtMs,
  };
}

const versionSchema = z.number().int().nonnegative();

/** The record of an entity, checked against {@link backendHealthSchema}; a {@link StoredRecordError} when corrupt. */
function fromEntity(entity: HealthEntity, table: string): BackendHealth {
  const where = { store: 'backend-health', location: table, key: tableKeyOf(entity.partitionKey, entity.rowKey) };
  if (entity.schemaVersion !== 1) throw new StoredRecordError({ ...where, problem: 'schemaVersion is not 1' });
  const version = readStored(versionSchema, entity.version, where);
  return { ...readStoredJson(backendHealthSchema, entity.health, where), version };
}
