import {
  allocateProportionally,
  capacityIn,
  resolveLedgerOptions,
  totalCapacity,
  type CapacityLedgerOptions,
  type DurableWaiter,
  type PoolLedger,
} from './capacity-ledger.js';
import type { GroupCapacity } from './scheduler-types.js';

/** The key durable requests compete under, beside the instances, when demand is split by level. */
export const DURABLE_DEMAND_KEY = '@durable';

/** What each party of a pool should hold once the ledger has converged. */
export interface PoolTargets {
  /** The pool's groups, tier order, as last reported. */
  readonly groups: readonly GroupCapacity[];
  /** Durable leases that may be held: those held now plus the waiters' share of the pool. */
  readonly durableTarget: number;
  /**
   * Per group, the slots set aside for durable requests ({@link PoolTargets.durableTarget} placed in tier
   * order, first groups first): instances are never granted these.
   */
  readonly durablePlacement: readonly GroupCapacity[];
  /** Each live instance's target per group (the groups of {@link PoolTargets.groups}, same order). */
  readonly instances: ReadonlyMap<string, readonly GroupCapacity[]>;
}

/** A waiting durable request's level after aging. */
export function effectiveLevel(waiter: DurableWaiter, nowMs: number, agingStepMs: number): number {
  if (agingStepMs <= 0) return waiter.level;
  return Math.max(1, waiter.level - Math.floor((nowMs - waiter.enqueuedAtMs) / agingStepMs));
}

function durableDemand(ledger: PoolLedger, nowMs: number, agingStepMs: number): number[] {
  const demand: number[] = [];
  for (const waiter of ledger.waiting) {
    const index = effectiveLevel(waiter, nowMs, agingStepMs) - 1;
    demand[index] = (demand[index] ?? 0) + 1;
  }
  return Array.from(demand, (n) => n ?? 0);
}

/**
 * Splits `available` slots among `demands` level by level, level 1 first: a level's demand is met in full
 * when it fits, else what is left is split in proportion to it and less urgent levels get nothing.
 */
export function splitByLevel(available: number, demands: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const needs = new Map<string, number>([...demands.keys()].map((k) => [k, 0]));
  let remaining = Math.max(0, available);
  const levels = Math.max(0, ...[...demands.values()].map((d) => d.length));
  for (let level = 0; level < levels && remaining > 0; level++) {
    const wants = [...demands].map(([k, d]) => [k, Math.max(0, d[level] ?? 0)] as const);
    const want = wants.reduce((s, [, w]) => s + w, 0);
    if (want === 0) continue;
    const granted = want <= remaining ? new Map(wants) : allocateProportionally(remaining, wants);
    for (const [k, n] of granted) needs.set(k, (needs.get(k) ?? 0) + n);
    remaining -= Math.min(want, remaining);
  }
  return needs;
}

/** `total` slots placed in `groups` in tier order (first groups first), never above a group's capacity. */
export function placeInTierOrder(total: number, groups: readonly GroupCapacity[]): GroupCapacity[] {
  let left = Math.max(0, total);
  return groups.map((g) => {
    const taken = Math.min(left, Math.max(0, g.capacity));
    left -= taken;
    return { groupId: g.groupId, capacity: taken };
  });
}

/**
 * Splits per-party totals over groups in tier order: each group in turn is filled in proportion to what
 * every party still needs, so earlier groups (PTU) are shared before later ones (PAYG).
 */
export function fillGroups(
  totals: ReadonlyMap<string, number>,
  groups: readonly GroupCapacity[],
): Map<string, GroupCapacity[]> {
  const left = new Map(totals);
  const out = new Map<string, GroupCapacity[]>([...totals.keys()].map((k) => [k, []]));
  for (const group of groups) {
    const need = [...left.values()].reduce((s, n) => s + n, 0);
    const given = allocateProportionally(Math.min(Math.max(0, group.capacity), need), [...left]);
    for (const [key, n] of given) {
      out.get(key)!.push({ groupId: group.groupId, capacity: n });
      left.set(key, (left.get(key) ?? 0) - n);
    }
  }
  return out;
}

/**
 * What every party of a pool should hold (pure; pass a pruned ledger). Durable leases held now are sunk;
 * the rest of the pool goes to demand level by level across instances and waiting durable requests
 * (aged), level 1 first. A busy instance also gets headroom — `headroomRatio` of its demand, at least one
 * slot — out of what no demand claims, so a burst does not wait for a report; the rest stays unassigned,
 * free for whoever asks next. An idle instance's target is 0.
 *
 * @example
 * computeTargets(ledger, now).instances.get('i1');
 * // → [{ groupId: 'ptu', capacity: 3 }, { groupId: 'payg', capacity: 1 }]
 */
export function computeTargets(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): PoolTargets {
  const o = resolveLedgerOptions(options);
  const groups = ledger.groups.map((g) => ({ groupId: g.groupId, capacity: Math.max(0, g.capacity) }));
  const held = Object.keys(ledger.leases).length;
  const available = Math.max(0, totalCapacity(groups) - held);
  const ids = Object.keys(ledger.instances).sort();
  const demands = new Map<string, readonly number[]>(ids.map((id) => [id, ledger.instances[id]!.demand]));
  demands.set(DURABLE_DEMAND_KEY, durableDemand(ledger, nowMs, o.agingStepMs));
  const needs = splitByLevel(available, demands);
  const durableTarget = held + (needs.get(DURABLE_DEMAND_KEY) ?? 0);
  needs.delete(DURABLE_DEMAND_KEY);
  const leftover = available - [...needs.values()].reduce((s, n) => s + n, 0) - (durableTarget - held);
  const busy = ids.filter((id) => ledger.instances[id]!.demand.some((d) => d > 0));
  const wants = busy.map((id) => {
    const demand = ledger.instances[id]!.demand.reduce((s, d) => s + Math.max(0, d), 0);
    return [id, Math.max(1, Math.ceil(o.headroomRatio * demand))] as const;
  });
  const wanted = wants.reduce((s, [, w]) => s + w, 0);
  const headroom = wanted <= leftover ? new Map(wants) : allocateProportionally(leftover, wants);
  const totals = new Map(ids.map((id) => [id, (needs.get(id) ?? 0) + (headroom.get(id) ?? 0)]));
  const durablePlacement = placeInTierOrder(durableTarget, groups);
  const free = groups.map((g) => ({
    groupId: g.groupId,
    capacity: g.capacity - capacityIn(durablePlacement, g.groupId),
  }));
  return { groups, durableTarget, durablePlacement, instances: fillGroups(totals, free) };
}
