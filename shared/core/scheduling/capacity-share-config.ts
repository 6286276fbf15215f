import type { GatewayConfig } from '../../config/gateway-schema.js';
import { poolGroups } from '../dispatch/pool-members.js';
import { allocateProportionally } from './capacity-ledger.js';
import type { GroupCapacity } from './scheduler-types.js';

/**
 * The configuration an instance runs with once it has its share of each pool (from the capacity ledger):
 * every backend's `maxConcurrency` is scaled so that a pool group's backends add up to the instance's
 * share of that group (largest remainder across the group's backends, in proportion to their configured
 * concurrency). The engine's capacity sync then gives the in-process scheduler exactly the share, so the
 * hot path consults only the in-process scheduler.
 *
 * A backend in several pools keeps the smallest value any of its pools gives it (never more than a share).
 * Pools without a share keep their configured values. Returns `config` itself when `shares` is empty.
 *
 * @example
 * const running = applyCapacityShares(config, new Map([['gpt-4o', [{ groupId: 'ptu', capacity: 3 }]]]));
 */
export function applyCapacityShares(
  config: GatewayConfig,
  shares: ReadonlyMap<string, readonly GroupCapacity[]>,
): GatewayConfig {
  if (shares.size === 0) return config;
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  const scaled = new Map<string, number>();
  for (const pool of config.pools) {
    const share = shares.get(pool.id);
    if (share === undefined) continue;
    const groups = poolGroups(pool, backends);
    for (const groupId of groups.order) {
      const members = groups.members.get(groupId) ?? [];
      const target = share.find((g) => g.groupId === groupId)?.capacity ?? 0;
      const configured = members.reduce((s, m) => s + m.backend.maxConcurrency, 0);
      const allotted = allocateProportionally(
        Math.min(target, configured),
        members.map((m) => [m.backend.id, m.backend.maxConcurrency] as const),
      );
      for (const [id, n] of allotted) scaled.set(id, Math.min(n, scaled.get(id) ?? Number.POSITIVE_INFINITY));
    }
  }
  if (scaled.size === 0) return config;
  return {
    ...config,
    backends: config.backends.map((b) => (scaled.has(b.id) ? { ...b, maxConcurrency: scaled.get(b.id)! } : b)),
  };
}
