import type { TableClient, TableEntity } from '@azure/data-tables';
import type { BackendHealth, BackendHealthStore } from '../../ports/backend-health-store.js';
import { contentionBackoff, statusOf } from './azure-errors.js';
import { tableReadModifyWrite } from './table-read-modify-write.js';
import { encodeTableKey } from './table-key.js';
import { createOnce } from './create-once.js';

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

  const readOne = async (backendId: string): Promise<{ value: BackendHealth; etag: string } | undefined> => {
    try {
      const entity = await client.getEntity<HealthEntity>(BACKEND_HEALTH_PARTITION, encodeTableKey(backendId));
      return { value: fromEntity(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };

  return {
    async read(backendIds) {
      await ensureTable();
      const unique = [...new Set(backendIds)];
      const found = await Promise.all(unique.map(async (id) => [id, await readOne(id)] as const));
      const out = new Map<string, BackendHealth>();
      for (const [id, hit] of found) if (hit !== undefined) out.set(id, hit.value);
      return out;
    },

    async update(backendId, mutate) {
      await ensureTable();
      return tableReadModifyWrite(client, {
        read: () => readOne(backendId),
        decide: (current) => {
          const next = mutate(current === undefined ? undefined : structuredClone(current));
          if (next === undefined) return { result: current };
          const stored: BackendHealth = { ...structuredClone(next), version: (current?.version ?? 0) + 1 };
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

function fromEntity(entity: HealthEntity): BackendHealth {
  const parsed = JSON.parse(entity.health) as Omit<BackendHealth, 'version'>;
  return { ...parsed, version: Number(entity.version) };
}
