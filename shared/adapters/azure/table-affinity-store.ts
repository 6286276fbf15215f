import type { TableClient, TableEntity } from '@azure/data-tables';
import type { AffinityStore } from '../../ports/affinity-store.js';
import { statusOf } from './azure-errors.js';
import { encodeTableKey } from './table-key.js';
import { createOnce } from './create-once.js';

/**
 * Stored entity (docs/storage.md, "GatewayAffinity"): PK = first two characters of the encoded state id
 * (spreads load over partitions), RK = the encoded state id; `backendId`, `expiresAtMs`. Version 1.
 */
interface AffinityEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly backendId: string;
  readonly expiresAtMs: number;
}

/**
 * A billing mark of `claimOnce` (docs/storage.md, "GatewayAffinity"): PK = `billed~` + the mapping's PK, RK =
 * the encoded state id; `expiresAtMs`. Created with an insert (409 = already billed). Version 1.
 */
interface ClaimEntity extends TableEntity {
  readonly schemaVersion: number;
  readonly expiresAtMs: number;
}

const CLAIM_PREFIX = 'billed~';

/**
 * The Azure Table {@link AffinityStore}: the mapping state id → backend shared by every gateway
 * instance, so a `GET /v1/responses/{id}` reaches the backend that created the response whichever
 * instance takes it. Upserts (last writer wins: a state id is created once); expired entities are
 * ignored on read and removed by the retention timer's table sweep or a lifecycle policy.
 *
 * @example
 * const affinity = createTableAffinityStore({ client: clients.tableClient('GatewayAffinity'), now: Date.now });
 */
export function createTableAffinityStore(
  deps: { readonly client: TableClient; readonly now: () => number },
  options: { readonly createTable?: boolean } = {},
): AffinityStore {
  const { client } = deps;
  const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);
  const keys = (stateId: string): { partitionKey: string; rowKey: string } => {
    const rowKey = encodeTableKey(stateId);
    return { partitionKey: rowKey.slice(0, 2), rowKey };
  };
  return {
    async get(stateId) {
      await ensureTable();
      const { partitionKey, rowKey } = keys(stateId);
      try {
        const entity = await client.getEntity<AffinityEntity>(partitionKey, rowKey);
        return Number(entity.expiresAtMs) > deps.now() ? entity.backendId : undefined;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async claimOnce(stateId, ttlMs) {
      await ensureTable();
      const { partitionKey, rowKey } = keys(stateId);
      const mark = { partitionKey: `${CLAIM_PREFIX}${partitionKey}`, rowKey, schemaVersion: 1, expiresAtMs: 0 };
      try {
        await client.createEntity<ClaimEntity>({ ...mark, expiresAtMs: deps.now() + ttlMs });
        return true;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      // A mark exists: it holds unless it expired, and then only one instance may replace it (ETag).
      const existing = await client.getEntity<ClaimEntity>(mark.partitionKey, rowKey);
      if (Number(existing.expiresAtMs) > deps.now()) return false;
      try {
        await client.updateEntity<ClaimEntity>({ ...mark, expiresAtMs: deps.now() + ttlMs }, 'Replace', {
          etag: existing.etag,
        });
        return true;
      } catch (error) {
        if (statusOf(error) === 412) return false;
        throw error;
      }
    },
    async set(stateId, backendId, ttlMs) {
      await ensureTable();
      await client.upsertEntity<AffinityEntity>(
        { ...keys(stateId), schemaVersion: 1, backendId, expiresAtMs: deps.now() + ttlMs },
        'Replace',
      );
    },
  };
}
