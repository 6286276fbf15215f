import type { GatewayConfig } from '../../config/gateway-schema.js';
import { poolGroups } from '../dispatch/pool-members.js';
import type { HealthTracker } from '../resilience/health-tracker.js';

/** What capacity sync needs of the scheduler gate. */
export interface CapacityTarget {
  setCapacity(poolId: string, groups: readonly { groupId: string; capacity: number }[]): void;
}

/**
 * Tells the scheduler each pool's capacity: per group, the sum of the usable backends' configured
 * concurrency (open and cooling backends do not count), groups in the pool's order. Called when the
 * configuration changes and whenever a backend's usability changes, so that when a breaker closes or
 * cooling ends the waiting requests are granted in priority order.
 */
export function syncCapacity(config: GatewayConfig, health: HealthTracker, target: CapacityTarget): void {
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  for (const pool of config.pools) {
    const groups = poolGroups(pool, backends);
    target.setCapacity(
      pool.id,
      groups.order.map((groupId) => ({
        groupId,
        capacity: (groups.members.get(groupId) ?? []).reduce(
          (sum, m) => sum + (health.snapshot(m.backend.id).usable ? m.backend.maxConcurrency : 0),
          0,
        ),
      })),
    );
  }
}
