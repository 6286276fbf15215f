import type { CallSummary } from '../pipeline/call-summary.js';
import type { Lease } from '../scheduling/scheduler-types.js';
import { RollingSums } from './rolling-sums.js';

/** Why the gateway turned a call away before a backend saw it, as the status page groups them. */
export type RejectionReason = 'queue_full' | 'ttl' | 'quota';

const REASON_OF_CODE: Readonly<Record<string, RejectionReason>> = {
  GW_ERR_QUEUE_FULL: 'queue_full',
  GW_ERR_REQUEST_TTL_EXPIRED: 'ttl',
  GW_ERR_QUOTA_EXCEEDED: 'quota',
};

/** One pool's grants and rejections. */
export interface PoolActivityView {
  /** Grants per second over the last 10 s. */
  readonly grantsPerSec: number;
  /** Grants per second, one value per 5 s over the last minute (oldest first), for a sparkline. */
  readonly grantsSeries: readonly number[];
  /** Rejections in the last minute, by reason. */
  readonly rejectedLastMinute: Readonly<Record<RejectionReason, number>>;
  /** Rejections since the process started, by reason. */
  readonly rejectedTotal: Readonly<Record<RejectionReason, number>>;
}

interface Entry {
  readonly grants: RollingSums;
  readonly recentGrants: RollingSums;
  readonly rejected: Record<RejectionReason, RollingSums>;
  readonly rejectedTotal: Record<RejectionReason, number>;
}

const zero = (): Record<RejectionReason, number> => ({ queue_full: 0, ttl: 0, quota: 0 });

/**
 * Per-pool scheduling activity: capacity grants (fed by the scheduler gate as they happen) and rejections
 * by reason (queue full, TTL expired while queued, token quota), fed by call summaries and attributed to
 * the pool of the call's route.
 *
 * @example
 * const pools = new PoolActivity((routeId) => config().routes.find((r) => r.id === routeId)?.pool);
 * gate.onGrant((lease) => pools.recordGrant(lease, clock.now()));
 */
export class PoolActivity {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly poolOfRoute: (routeId: string) => string | undefined) {}

  recordGrant(lease: Lease, nowMs: number): void {
    const entry = this.entry(lease.poolId);
    entry.grants.add(nowMs, 1);
    entry.recentGrants.add(nowMs, 1);
  }

  /** Counts the call when the gateway rejected it for a scheduling or quota reason. */
  recordCall(summary: CallSummary, nowMs: number): void {
    const reason = summary.errorCode === undefined ? undefined : REASON_OF_CODE[summary.errorCode];
    if (reason === undefined) return;
    const poolId =
      summary.lease?.poolId ?? (summary.routeId === undefined ? undefined : this.poolOfRoute(summary.routeId));
    if (poolId === undefined) return;
    const entry = this.entry(poolId);
    entry.rejected[reason].add(nowMs, 1);
    entry.rejectedTotal[reason] += 1;
  }

  view(poolId: string, nowMs: number): PoolActivityView {
    const entry = this.entry(poolId);
    const lastMinute = zero();
    for (const reason of Object.keys(lastMinute) as RejectionReason[])
      lastMinute[reason] = entry.rejected[reason].sum(nowMs);
    return {
      grantsPerSec: round(entry.recentGrants.sum(nowMs, 10_000) / 10),
      grantsSeries: entry.grants.series(nowMs).map((n) => round(n / 5)),
      rejectedLastMinute: lastMinute,
      rejectedTotal: { ...entry.rejectedTotal },
    };
  }

  private entry(poolId: string): Entry {
    let entry = this.entries.get(poolId);
    if (entry === undefined) {
      const minute = (): RollingSums => new RollingSums(5_000, 12);
      entry = {
        grants: minute(),
        recentGrants: new RollingSums(1_000, 10),
        rejected: { queue_full: minute(), ttl: minute(), quota: minute() },
        rejectedTotal: zero(),
      };
      this.entries.set(poolId, entry);
    }
    return entry;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
