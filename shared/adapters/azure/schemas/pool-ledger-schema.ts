import { z } from 'zod';
import { normalizeLedger, type PoolLedger } from '../../../core/scheduling/capacity-ledger.js';
import type { StoredRecordWhere } from '../../../ports/stored-record-error.js';
import { readStored } from '../stored-record.js';

const groups = z.array(z.looseObject({ groupId: z.string(), capacity: z.number() }));
const count = z.number().int().nonnegative();

const instance = z.looseObject({
  instanceId: z.string(),
  groups,
  demand: z.array(z.number()),
  inUse: z.number(),
  holding: groups.optional(),
  seq: z.number().optional(),
  atMs: z.number(),
  grant: groups.optional(),
  lower: groups.optional(),
});

const waiter = z.looseObject({
  requestId: z.string(),
  level: z.number(),
  enqueuedAtMs: z.number(),
  deadlineMs: z.number(),
  lastSeenAtMs: z.number(),
  seq: z.number(),
});

const lease = z.looseObject({
  requestId: z.string(),
  level: z.number(),
  grantedAtMs: z.number(),
  expiresAtMs: z.number(),
  waitedMs: z.number(),
  confirmByMs: z.number().optional(),
  offeredTo: waiter.optional(),
});

/**
 * A stored version-1 {@link PoolLedger} (a `GatewayCapacity` row's state columns, the capacity-ledger durable
 * entity's state). Fields `emptyLedger()` supplies may be absent (ledgers written before they existed).
 */
export const poolLedgerSchema = z.looseObject({
  version: z.literal(1),
  groups: groups.optional(),
  instances: z.record(z.string(), instance).optional(),
  waiting: z.array(waiter).optional(),
  leases: z.record(z.string(), lease).optional(),
  nextSeq: count.optional(),
  revision: count.optional(),
});

/**
 * A stored ledger state, checked: an empty ledger for none, the ledger for a valid version-1 state, a
 * `RangeError` for another version (a newer writer's ledger is not corrupt — it is left alone, as
 * `normalizeLedger` does), and a `StoredRecordError` naming `where` for anything else.
 *
 * @example
 * const where = { store: 'capacity-ledger', location: 'entity capacityLedger', key: poolId };
 * const ledger = readStoredLedger(context.df.getState(), where);
 */
export function readStoredLedger(state: unknown, where: StoredRecordWhere): PoolLedger {
  if (state === undefined || state === null) return normalizeLedger(undefined);
  const version = (state as { version?: unknown }).version;
  if (typeof version === 'number' && version !== 1) return normalizeLedger(state);
  return normalizeLedger(readStored(poolLedgerSchema, state, where));
}
