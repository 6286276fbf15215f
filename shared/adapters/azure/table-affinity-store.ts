import type { TableClient, TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import type { AffinityStore } from '../../ports/affinity-store.js';
import { absentOn404, statusOf } from './azure-errors.js';
import { encodeTableKey } from './table-key.js';
import { createOnce } from './create-once.js';
import { StoredRecordError, type CorruptReadSink } from '../../ports/stored-record-error.js';
import { readStored, tableKeyOf } from './stored-record.js';

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

/** A mapping row (no billing marks: those live under their own partitions and are read by `claimOnce`). */
const mappingSchema = z.looseObject({
  schemaVersion: z.literal(1),
  backendId: z.string().min(1),
  expiresAtMs: z.number(),
});
/** A billing-mark row: no `backendId`. */
const claimSchema = z.looseObject({ schemaVersion: z.literal(1), expiresAtMs: z.number() });

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
  options: {
    readonly createTable?: boolean;
    /** Told about every corrupt mapping or billing mark read (counted and logged by the composition). */
    readonly onCorrupt?: CorruptReadSink;
  } = {},
): AffinityStore {
  const { client } = deps;
  const checked = <T>(schema: z.ZodType<T>, store: string, entity: TableEntity): T | undefined =>
    checkedRow(schema, entity, { store, location: client.tableName }, options.onCorrupt);
  const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);
  return {
    async get(stateId) {
      await ensureTable();
      const { partitionKey, rowKey } = affinityKeys(stateId);
      const entity = await absentOn404(client.getEntity<AffinityEntity>(partitionKey, rowKey));
      if (entity === undefined) return undefined;
      // A corrupt mapping is no mapping: the call goes to any member, and the next `set` replaces it.
      const mapping = checked(mappingSchema, 'affinity', entity);
      return mapping !== undefined && mapping.expiresAtMs > deps.now() ? mapping.backendId : undefined;
    },
    async claimOnce(stateId, ttlMs) {
      await ensureTable();
      const { partitionKey, rowKey } = affinityKeys(stateId);
      const mark = { partitionKey: `${CLAIM_PREFIX}${partitionKey}`, rowKey, schemaVersion: 1, expiresAtMs: 0 };
      try {
        await client.createEntity<ClaimEntity>({ ...mark, expiresAtMs: deps.now() + ttlMs });
        return true;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      // A mark exists: it holds unless it expired, and then only one instance may replace it (ETag).
      // A corrupt mark counts as expired: replaced and billed, as when a claim cannot be decided (ADR 0026).
      const existing = await client.getEntity<ClaimEntity>(mark.partitionKey, rowKey);
      const held = checked(claimSchema, 'billing-mark', existing);
      if (held !== undefined && held.expiresAtMs > deps.now()) return false;
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
        { ...affinityKeys(stateId), schemaVersion: 1, backendId, expiresAtMs: deps.now() + ttlMs },
        'Replace',
      );
    },
  };
}

/** The keys of a state id's mapping: the encoded id, partitioned by its first two characters. */
function affinityKeys(stateId: string): { partitionKey: string; rowKey: string } {
  const rowKey = encodeTableKey(stateId);
  return { partitionKey: rowKey.slice(0, 2), rowKey };
}

/** The row checked against `schema`; a corrupt one is reported and answers `undefined` (ADR 0039). */
function checkedRow<T>(
  schema: z.ZodType<T>,
  entity: TableEntity,
  where: { readonly store: string; readonly location: string },
  onCorrupt: CorruptReadSink | undefined,
): T | undefined {
  try {
    return readStored(schema, entity, { ...where, key: tableKeyOf(entity.partitionKey, entity.rowKey) });
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    onCorrupt?.(error);
    return undefined;
  }
}
