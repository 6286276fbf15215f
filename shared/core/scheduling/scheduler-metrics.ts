import type { Telemetry } from '../../ports/telemetry.js';
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
