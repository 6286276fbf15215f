import type { Telemetry } from '../../ports/telemetry.js';
import { totalCapacity } from './capacity-ledger.js';
import type { PoolShareStatus } from './capacity-share-agent.js';
import type { SchedulerStats } from './scheduler-types.js';

/**
 * Reports the scheduler's state as metrics: per pool and level, waiting requests, the oldest wait and
 * leases held; per pool and group, capacity and leases in use; and the running totals (grants,
 * rejections, expiries, priority inversions). Called on an interval, not per request.
 *
 * @example
 * setInterval(() => reportSchedulerMetrics(telemetry, gate.stats()), 10_000);
 */
export function reportSchedulerMetrics(telemetry: Telemetry, stats: SchedulerStats): void {
  try {
    for (const pool of stats.pools) {
      for (const level of pool.levels) {
        const dims = { pool: pool.poolId, level: String(level.level) };
        telemetry.metric('gateway.scheduler.waiting', level.waiting, dims);
        telemetry.metric('gateway.scheduler.oldest_wait_ms', level.oldestWaitMs, dims);
        telemetry.metric('gateway.scheduler.leases', level.leases, dims);
      }
      for (const group of pool.groups) {
        const dims = { pool: pool.poolId, group: group.groupId };
        telemetry.metric('gateway.scheduler.capacity', group.capacity, dims);
        telemetry.metric('gateway.scheduler.in_use', group.inUse, dims);
      }
    }
    for (const [name, value] of Object.entries(stats.totals))
      telemetry.metric(`gateway.scheduler.total.${name}`, value);
  } catch {
    // Telemetry never fails the gateway.
  }
}

/**
 * Reports capacity sharing per pool: live instances sharing it, this instance's grant, whether the
 * ledger answers (`gateway.capacity.unreachable` 1 while the grant has outlived its lifetime) and failed
 * reports in a row. Called on the same interval as {@link reportSchedulerMetrics}.
 *
 * @example
 * reportSharingMetrics(telemetry, runtime.capacitySharing() ?? []);
 */
export function reportSharingMetrics(telemetry: Telemetry, pools: readonly PoolShareStatus[]): void {
  try {
    for (const pool of pools) {
      const dims = { pool: pool.poolId };
      telemetry.metric('gateway.capacity.instances', pool.instances, dims);
      telemetry.metric('gateway.capacity.grant', totalCapacity(pool.grant), dims);
      telemetry.metric('gateway.capacity.unreachable', pool.state === 'unreachable' ? 1 : 0, dims);
      telemetry.metric('gateway.capacity.failed_reports', pool.failures, dims);
    }
  } catch {
    // Telemetry never fails the gateway.
  }
}
