import type { CapacityLedger } from '../../ports/capacity-ledger.js';
import type { Clock } from '../clock.js';
import type { GrantAnswer } from './capacity-grants.js';
import {
  reportPacing,
  totalCapacity,
  type CapacityLedgerOptions,
  type InstanceReport,
  type ReportPacing,
} from './capacity-ledger.js';
import {
  enforcedShare,
  grantLifetimeMs,
  holdingOf,
  reportReason,
  type LastReport,
  type ReportReason,
  type UnreachablePolicy,
} from './capacity-share-policy.js';
import type { SetTimer } from './scheduler-gate.js';
import type { GroupCapacity, SchedulerStats } from './scheduler-types.js';

/** One pool's demand in this instance's scheduler. */
export interface PoolDemand {
  readonly poolId: string;
  /** Per level (index 0 = level 1): waiting plus leased. */
  readonly demand: readonly number[];
  readonly waiting: number;
  /** Leases held per group. */
  readonly inUse: readonly GroupCapacity[];
}

/**
 * Each pool's demand from the scheduler's figures: per level, waiting plus leased; leases per group.
 *
 * @example
 * new CapacityShareAgent({ …, observe: () => poolDemandOf(gate.stats()) });
 */
export function poolDemandOf(stats: SchedulerStats): PoolDemand[] {
  return stats.pools.map((pool) => ({
    poolId: pool.poolId,
    demand: pool.levels.map((l) => l.waiting + l.leases),
    waiting: pool.waiting,
    inUse: pool.groups.map((g) => ({ groupId: g.groupId, capacity: g.inUse })),
  }));
}

/** Options of the agent: the ledger's options (every instance passes the same) and its own policy. */
export interface CapacitySharingOptions extends CapacityLedgerOptions {
  /** What to enforce while the ledger cannot be reached past the grant's lifetime. Default `keep-even-share`. */
  readonly whenUnreachable?: UnreachablePolicy;
}

/** What the agent needs from its host. */
export interface CapacityShareAgentDeps {
  readonly ledger: CapacityLedger;
  readonly clock: Clock;
  /** Stable for the life of the process, unique among the deployment's instances. */
  readonly instanceId: string;
  /** The in-process scheduler's demand per pool (from its stats). */
  readonly observe: () => readonly PoolDemand[];
  /**
   * Re-applies every pool's capacity to the scheduler, synchronously (the host's capacity sync, which calls
   * {@link CapacityShareAgent.cap}).
   */
  readonly resync: () => void;
  /** Default: `setTimeout`, unref'd. */
  readonly setTimer?: SetTimer;
  /** Told about every failed report (telemetry). */
  readonly onError?: (error: unknown, poolId: string) => void;
}

/** One pool's sharing state, as the admin status shows it. */
export interface PoolShareStatus {
  readonly poolId: string;
  /**
   * `starting`: no grant yet (admits nothing); `granted`: a fresh grant; `unreachable`: past its lifetime, or
   * no grant and the last report failed (then `whenUnreachable` decides).
   */
  readonly state: 'starting' | 'granted' | 'unreachable';
  readonly enforced: readonly GroupCapacity[];
  readonly grant: readonly GroupCapacity[] | undefined;
  readonly instances: number;
  readonly reports: number;
  readonly failures: number;
  readonly lastReason: ReportReason | undefined;
  readonly lastReportAtMs: number | undefined;
  readonly intervalMs: number;
}

interface PoolShare {
  seen: readonly GroupCapacity[];
  grant: readonly GroupCapacity[] | undefined;
  /** The target answered with the grant: while they differ, the instance reads the ledger between reports. */
  target: readonly GroupCapacity[] | undefined;
  lowered: readonly GroupCapacity[] | undefined;
  grantAtMs: number | undefined;
  pacing: ReportPacing;
  instances: number;
  last: LastReport | undefined;
  lastAttemptAtMs: number | undefined;
  lastReason: ReportReason | undefined;
  inFlight: boolean;
  failures: number;
  reports: number;
  /** Reports attempted (the report's `seq`). */
  attempts: number;
  /** The `seq` of the last report the ledger answered. */
  acceptedSeq: number;
  /**
   * Per level, the most demand seen since the last report. Reported instead of the moment's demand, so
   * that closed-loop callers between two calls (demand dips for a moment) do not make shares swing.
   */
  peakDemand: number[];
  /** Reads since the last report, and when the last one started. */
  reads: number;
  lastReadAtMs: number | undefined;
}

/** Reads of the ledger between two reports, at most (each a storage read, not a ledger operation). */
export const READS_PER_INTERVAL = 2;

/** Per level, the larger of two demand vectors. */
function maxPerLevel(a: readonly number[], b: readonly number[]): number[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => Math.max(a[i] ?? 0, b[i] ?? 0));
}

/** Shortest time between two looks at the scheduler prompted by its changes. */
export const EVALUATE_SPACING_MS = 10;

const defaultSetTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * This instance's side of capacity sharing: it caps every pool's capacity in the in-process scheduler at
 * the grant the shared ledger answered, and reports to the ledger when its demand changes — queue became
 * non-empty or is still waiting (each interval), drained, grant used up, gone idle, a lowered grant handed
 * back, capacity changed — at most once per paced interval per pool, and on a heartbeat only while it
 * holds something. A new instance admits nothing until its first grant (one ledger round trip after its
 * first request) and grows as the ledger grants. The hot path never waits on the ledger: the scheduler
 * queues by priority until the grant arrives.
 *
 * @example
 * const agent = new CapacityShareAgent({ ledger, clock, instanceId, observe, resync }, options);
 * gate.setCapacity(poolId, agent.cap(poolId, configuredGroups));
 */
export class CapacityShareAgent {
  private readonly pools = new Map<string, PoolShare>();
  private readonly setTimer: SetTimer;
  private options: CapacitySharingOptions;
  private disarm: (() => void) | undefined;
  private armedAtMs: number | undefined;
  private pokeArmed = false;
  private lastEvaluatedAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly deps: CapacityShareAgentDeps,
    options: CapacitySharingOptions = {},
  ) {
    this.options = options;
    this.setTimer = deps.setTimer ?? defaultSetTimer;
  }

  /** Takes new options (a configuration reload); pacing already answered stays until the next answer. */
  setOptions(options: CapacitySharingOptions): void {
    this.options = options;
  }

  /**
   * The capacity to give the scheduler for `poolId`, given what the instance sees (configured, health
   * adjusted): its share. Records `seen` for the next report.
   */
  cap(poolId: string, seen: readonly GroupCapacity[]): GroupCapacity[] {
    const share = this.share(poolId);
    share.seen = seen.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
    return this.enforced(share);
  }

  /**
   * Something changed in the scheduler (a request queued, a lease released): look again soon — at most
   * every {@link EVALUATE_SPACING_MS}, so a busy hot path costs one look per burst, not one per request.
   */
  poke(): void {
    if (this.pokeArmed || this.closed) return;
    this.pokeArmed = true;
    const delayMs = Math.max(0, this.lastEvaluatedAtMs + EVALUATE_SPACING_MS - this.deps.clock.now());
    this.setTimer(() => {
      this.pokeArmed = false;
      this.evaluate();
    }, delayMs);
  }

  /** Looks at every pool now: reports (or reads) what is due, arms the timer for what is due later. */
  evaluate(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    this.lastEvaluatedAtMs = now;
    const demand = new Map(this.deps.observe().map((d) => [d.poolId, d]));
    let nextAtMs = Number.POSITIVE_INFINITY;
    for (const poolId of new Set([...demand.keys(), ...this.pools.keys()]))
      nextAtMs = Math.min(nextAtMs, this.evaluatePool(poolId, demand.get(poolId), now));
    this.arm(nextAtMs, now);
  }

  /** Starts what is due for one pool; answers when to look at it again. */
  private evaluatePool(poolId: string, observed: PoolDemand | undefined, now: number): number {
    const share = this.share(poolId);
    share.peakDemand = maxPerLevel(share.peakDemand, observed?.demand ?? []);
    let nextAtMs = Number.POSITIVE_INFINITY;
    if (share.grantAtMs !== undefined) {
      const expiresAt = share.grantAtMs + grantLifetimeMs(share.pacing) + 1;
      if (expiresAt > now) nextAtMs = expiresAt;
    }
    if (share.inFlight) return nextAtMs;
    const reason = this.reasonFor(share, observed, now);
    if (reason !== undefined) {
      const dueAt = (share.lastAttemptAtMs ?? Number.NEGATIVE_INFINITY) + this.retryDelayMs(share);
      if (dueAt <= now) {
        void this.report(poolId, share, reason);
        return nextAtMs;
      }
      nextAtMs = Math.min(nextAtMs, dueAt);
    } else if (share.last !== undefined) {
      // A heartbeat later only matters while it holds something (reportReason decides then).
      const heartbeatAt = share.last.atMs + share.pacing.heartbeatMs;
      if (heartbeatAt > now) nextAtMs = Math.min(nextAtMs, heartbeatAt);
    }
    const readAt = this.readDueAt(share, observed);
    if (readAt !== undefined && readAt <= now) void this.read(poolId, share);
    else if (readAt !== undefined) nextAtMs = Math.min(nextAtMs, readAt);
    return nextAtMs;
  }

  /** Every pool's sharing state (admin status). */
  status(): PoolShareStatus[] {
    const now = this.deps.clock.now();
    return [...this.pools].map(([poolId, share]) => ({
      poolId,
      state:
        share.grant === undefined
          ? share.failures > 0
            ? 'unreachable'
            : 'starting'
          : now - (share.grantAtMs ?? 0) <= grantLifetimeMs(share.pacing)
            ? 'granted'
            : 'unreachable',
      enforced: this.enforced(share),
      grant: share.grant,
      instances: share.instances,
      reports: share.reports,
      failures: share.failures,
      lastReason: share.lastReason,
      lastReportAtMs: share.last?.atMs,
      intervalMs: share.pacing.intervalMs,
    }));
  }

  /**
   * Stops reporting and leaves every pool's ledger, so what this instance held returns to the others at
   * once (a stopped process that cannot leave is dropped after the staleness bound instead).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm?.();
    const now = this.deps.clock.now();
    await Promise.all(
      [...this.pools].map(([poolId, share]) =>
        share.last === undefined
          ? Promise.resolve()
          : this.deps.ledger
              .leave(poolId, this.deps.instanceId, now, this.options)
              .catch((error: unknown) => this.deps.onError?.(error, poolId)),
      ),
    );
  }

  private share(poolId: string): PoolShare {
    let share = this.pools.get(poolId);
    if (share === undefined) {
      share = {
        seen: [],
        grant: undefined,
        target: undefined,
        lowered: undefined,
        grantAtMs: undefined,
        pacing: reportPacing(1, this.options),
        instances: 1,
        last: undefined,
        lastAttemptAtMs: undefined,
        lastReason: undefined,
        inFlight: false,
        failures: 0,
        reports: 0,
        attempts: 0,
        acceptedSeq: 0,
        peakDemand: [],
        reads: 0,
        lastReadAtMs: undefined,
      };
      this.pools.set(poolId, share);
    }
    return share;
  }

  private enforced(share: PoolShare): GroupCapacity[] {
    return enforcedShare(share, share.seen, this.deps.clock.now(), this.options.whenUnreachable ?? 'keep-even-share');
  }

  private reasonFor(share: PoolShare, observed: PoolDemand | undefined, now: number): ReportReason | undefined {
    const demand = (observed?.demand ?? []).reduce((s, n) => s + n, 0);
    const inUse = totalCapacity(observed?.inUse);
    return reportReason(
      share.last,
      { waiting: observed?.waiting ?? 0, demand, inUse, seen: share.seen },
      now,
      share.pacing,
    );
  }

  /** The paced interval, stretched after failed reports (up to the heartbeat). */
  private retryDelayMs(share: PoolShare): number {
    const interval = share.pacing.intervalMs;
    return share.failures === 0 ? interval : Math.min(share.pacing.heartbeatMs, interval * 2 ** share.failures);
  }

  private observed(poolId: string): PoolDemand | undefined {
    return this.deps.observe().find((d) => d.poolId === poolId);
  }

  /**
   * When to read the ledger next: between reports, while this instance's grant differs from its target
   * (others owe it room, or it is advised to lower) or requests wait — so a grant raised or lowered by
   * another instance's report is learnt within a third of an interval, not at the next report.
   */
  private readDueAt(share: PoolShare, observed: PoolDemand | undefined): number | undefined {
    if (share.last === undefined || share.reads >= READS_PER_INTERVAL) return undefined;
    const owed = totalCapacity(share.grant) !== totalCapacity(share.target);
    if (!owed && (observed?.waiting ?? 0) === 0) return undefined;
    const since = Math.max(share.lastAttemptAtMs ?? 0, share.lastReadAtMs ?? 0);
    return since + Math.ceil(share.pacing.intervalMs / (READS_PER_INTERVAL + 1));
  }

  /** Reads this instance's entry: a grant raised by others' reports, or advice to lower, applies at once. */
  private async read(poolId: string, share: PoolShare): Promise<void> {
    share.inFlight = true;
    share.reads += 1;
    share.lastReadAtMs = this.deps.clock.now();
    const seq = share.acceptedSeq;
    try {
      const entry = (await this.deps.ledger.read(poolId))?.instances[this.deps.instanceId];
      // Only the entry of the report this instance was last answered (a later report answers for itself).
      if (entry?.grant !== undefined && entry.seq === seq && share.acceptedSeq === seq) {
        share.grant = entry.grant.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
        share.lowered = entry.lower?.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
      }
    } catch (error) {
      this.deps.onError?.(error, poolId);
    } finally {
      share.inFlight = false;
    }
    if (this.closed) return;
    this.deps.resync();
    this.evaluate();
  }

  /** The report for one pool now: demand is the most seen since the last report (the moment's when idle). */
  private reportOf(
    share: PoolShare,
    observed: PoolDemand | undefined,
    reason: ReportReason,
    now: number,
  ): InstanceReport {
    const inUse = observed?.inUse ?? [];
    const current = observed?.demand ?? [];
    // Gone idle: give everything back now (the peak since the last report would keep a grant alive).
    const demand = reason === 'idle' ? [...current] : maxPerLevel(share.peakDemand, current);
    share.peakDemand = [...current];
    return {
      instanceId: this.deps.instanceId,
      groups: share.seen,
      demand,
      inUse: totalCapacity(inUse),
      holding: holdingOf(this.enforced(share), inUse),
      seq: share.attempts,
      atMs: now,
    };
  }

  private async report(poolId: string, share: PoolShare, reason: ReportReason): Promise<void> {
    const now = this.deps.clock.now();
    share.inFlight = true;
    share.lastAttemptAtMs = now;
    share.attempts += 1;
    share.lastReason = reason;
    const observed = this.observed(poolId);
    const report = this.reportOf(share, observed, reason, now);
    // What the ledger stores as held: the report's, or what the instance holds after lowering early.
    let stored = report.holding ?? [];
    try {
      const answer = await this.deps.ledger.report(poolId, report, {
        ledger: this.options,
        beforeCommit: (grant) => (stored = this.lowerEarly(poolId, share, grant)),
      });
      const last: LastReport = {
        waiting: observed?.waiting ?? 0,
        demand: report.demand.reduce((s, n) => s + n, 0),
        inUse: report.inUse,
        seen: share.seen,
        holding: totalCapacity(stored),
        grant: totalCapacity(answer.grant),
        atMs: now,
      };
      this.accept(share, answer, last, report.seq ?? 0);
    } catch (error) {
      share.failures += 1;
      this.deps.onError?.(error, poolId);
    } finally {
      share.inFlight = false;
    }
    if (this.closed) return;
    this.deps.resync();
    this.evaluate();
  }

  /** Applies a lowered grant before the ledger stores it and answers what the instance now holds. */
  private lowerEarly(poolId: string, share: PoolShare, grant: readonly GroupCapacity[]): readonly GroupCapacity[] {
    if (!this.closed) {
      share.lowered = grant.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
      this.deps.resync();
    }
    return holdingOf(this.enforced(share), this.observed(poolId)?.inUse ?? []);
  }

  private accept(share: PoolShare, answer: GrantAnswer, last: LastReport, seq: number): void {
    share.grant = answer.grant.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
    share.target = answer.target.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
    share.acceptedSeq = seq;
    share.reads = 0;
    share.lowered = undefined;
    share.grantAtMs = last.atMs;
    share.pacing = answer.pacing;
    share.instances = answer.instances;
    share.last = last;
    share.failures = 0;
    share.reports += 1;
  }

  private arm(atMs: number, now: number): void {
    if (atMs === this.armedAtMs) return;
    this.disarm?.();
    this.disarm = undefined;
    this.armedAtMs = undefined;
    if (!Number.isFinite(atMs) || this.closed) return;
    this.armedAtMs = atMs;
    this.disarm = this.setTimer(
      () => {
        this.disarm = undefined;
        this.armedAtMs = undefined;
        this.deps.resync();
        this.evaluate();
      },
      Math.max(0, atMs - now),
    );
  }
}
