import { capacityIn, totalCapacity, type InstanceEntry, type PoolLedger } from './capacity-ledger.js';

/**
 * What an instance may have in flight in `groupId` until its next report: the larger of its grant and
 * what it said it holds (a grant just lowered still counts until the instance confirms it is below it).
 */
export function committedIn(entry: InstanceEntry, groupId: string): number {
  const granted = capacityIn(entry.grant, groupId);
  return Math.max(granted, entry.holding === undefined ? granted : capacityIn(entry.holding, groupId));
}

/** {@link committedIn} summed over the instance's groups. */
export function committedTotal(entry: InstanceEntry, groupIds: readonly string[]): number {
  return groupIds.reduce((sum, id) => sum + committedIn(entry, id), 0);
}

/**
 * Slots of the pool nobody holds: capacity less what every instance may have in flight and the durable
 * leases. Durable requests are offered only these.
 */
export function spareSlots(ledger: PoolLedger): number {
  const groupIds = ledger.groups.map((g) => g.groupId);
  const committed = Object.values(ledger.instances).reduce((s, e) => s + committedTotal(e, groupIds), 0);
  return Math.max(0, totalCapacity(ledger.groups) - committed - Object.keys(ledger.leases).length);
}
