/**
 * The data shapes of the `PriorityScheduler`: requests, leases, outcomes, statistics and the
 * serialisable snapshot. All of them are plain JSON values so that a durable entity can persist them.
 *
 * Compatibility: {@link SchedulerSnapshot} is a wire format (durable entity state). It carries a
 * `version`; fields are only ever added, and `restore` rejects an unknown version.
 */

/** Why a lease was granted; recorded in the usage record. */
export type GrantReason =
  /** Capacity was free and no reservation or aging was needed. */
  | 'free'
  /** The request took one of the slots reserved for its own level. */
  | 'reserved'
  /** The request was served by a group after the pool's first (e.g. PAYG after PTU). */
  | 'spill'
  /** The request ran at a more urgent level than its own because it had waited (aging). */
  | 'aged';

/** The capacity of one group of a pool, e.g. `{ groupId: 'ptu', capacity: 8 }` concurrent calls. */
export interface GroupCapacity {
  readonly groupId: string;
  /** Concurrent calls this group can take now (the sum of its usable backends' concurrency). */
  readonly capacity: number;
}

/** What a caller asks the scheduler for. */
export interface ScheduleRequest {
  /** Unique per request; used to cancel and to match grants to waiters. */
  readonly requestId: string;
  readonly poolId: string;
  /** 1 is most urgent; omitted → the configured default level. */
  readonly priority?: number;
  /** Fair-share key (the caller's user id). */
  readonly userId: string;
  /** Absolute wall-clock TTL (epoch ms): a request still waiting at this instant expires. */
  readonly deadlineMs: number;
  /** Groups this request may use at all (route restrictions); omitted → any group the level policy allows. */
  readonly allowedGroups?: readonly string[];
  /** Overrides the configured lease TTL for this request (e.g. long async calls). */
  readonly leaseTtlMs?: number;
}

/** A granted slot, held from grant to release (a streaming response included). */
export interface Lease {
  readonly leaseId: string;
  readonly requestId: string;
  readonly poolId: string;
  /** The group that serves the request (e.g. `ptu`, `payg`). */
  readonly groupId: string;
  readonly userId: string;
  /** The request's own priority level. */
  readonly level: number;
  /** The level it competed at when granted (more urgent than `level` after aging). */
  readonly effectiveLevel: number;
  readonly reason: GrantReason;
  /** Time spent waiting in the queue before the grant, in ms. */
  readonly waitedMs: number;
  readonly grantedAtMs: number;
  /** After this instant `tick()` reclaims the lease even if it was never released. */
  readonly expiresAtMs: number;
}

/** Effects of every state-changing call: what the caller must now tell its waiters. */
export interface SchedulerEffects {
  /** Other requests that were granted a lease by this call, in grant order. */
  readonly grants: readonly Lease[];
  /** Waiting requests whose TTL passed; answer them with `GW_ERR_REQUEST_TTL_EXPIRED`. */
  readonly expired: readonly ExpiredRequest[];
  /** Leases that were never released within their lease TTL and have been reclaimed. */
  readonly expiredLeases: readonly Lease[];
}

/** A waiting request removed because its TTL passed. */
export interface ExpiredRequest {
  readonly requestId: string;
  readonly poolId: string;
  readonly userId: string;
  readonly level: number;
  readonly deadlineMs: number;
  readonly waitedMs: number;
}

/** The decision on a newly enqueued request. */
export type EnqueueDecision =
  | { readonly kind: 'granted'; readonly lease: Lease }
  /** `position` is 1-based: waiting requests at this level or a more urgent one, this one included. */
  | { readonly kind: 'queued'; readonly position: number }
  | {
      readonly kind: 'rejected';
      readonly code: 'GW_ERR_QUEUE_FULL' | 'GW_ERR_REQUEST_TTL_EXPIRED';
      readonly retryAfterMs?: number;
    };

/** What `enqueue` returns: its decision plus the effects on other requests. */
export type EnqueueResult = EnqueueDecision & SchedulerEffects;

/** What `release` returns. */
export interface ReleaseResult extends SchedulerEffects {
  /** The released lease, or `undefined` when it was unknown (already released or reclaimed). */
  readonly released: Lease | undefined;
}

/** What `cancel` returns. */
export interface CancelResult extends SchedulerEffects {
  /** True when a waiting entry was removed. */
  readonly cancelled: boolean;
}

/** Per-level queue figures of a pool. */
export interface LevelStats {
  readonly level: number;
  readonly waiting: number;
  /** How long the oldest waiting request of this level has waited, in ms (0 when none waits). */
  readonly oldestWaitMs: number;
  /** Leases held by requests of this level. */
  readonly leases: number;
  readonly reservedSlots: number;
  readonly maxQueueDepth: number;
}

/** Per-group figures of a pool. */
export interface GroupStats {
  readonly groupId: string;
  readonly capacity: number;
  readonly inUse: number;
}

/** Figures for one pool. */
export interface PoolStats {
  readonly poolId: string;
  readonly groups: readonly GroupStats[];
  readonly levels: readonly LevelStats[];
  readonly leases: number;
  readonly waiting: number;
  /** Moving average of lease durations, in ms (`undefined` until a lease was released). */
  readonly averageLeaseMs: number | undefined;
}

/** Counters since the scheduler was created (carried through snapshots). */
export interface SchedulerTotals {
  enqueued: number;
  grants: number;
  rejections: number;
  expiredWaiting: number;
  expiredLeases: number;
  cancellations: number;
  releases: number;
  /**
   * Grants given while a strictly more urgent (after aging) waiting request could have taken the same
   * capacity. Must stay 0; the saturation tests assert it.
   */
  priorityInversions: number;
}

/** What `stats()` returns. */
export interface SchedulerStats {
  readonly atMs: number;
  readonly pools: readonly PoolStats[];
  readonly totals: Readonly<SchedulerTotals>;
}

/** A waiting request as stored in a snapshot. */
export interface WaitingSnapshot {
  readonly requestId: string;
  readonly poolId: string;
  readonly level: number;
  readonly userId: string;
  readonly deadlineMs: number;
  readonly enqueuedAtMs: number;
  readonly seq: number;
  readonly allowedGroups?: readonly string[];
  readonly leaseTtlMs?: number;
}

/** One pool in a snapshot. */
export interface PoolSnapshot {
  readonly poolId: string;
  readonly groups: readonly GroupCapacity[];
  readonly averageLeaseMs: number | null;
}

/**
 * The complete state of a `PriorityScheduler` as plain JSON (`JSON.stringify` safe).
 * Options are not part of it: the owner passes the same options to `restore`.
 */
export interface SchedulerSnapshot {
  readonly version: 1;
  readonly nextSeq: number;
  readonly nextLeaseNo: number;
  readonly pools: readonly PoolSnapshot[];
  /** Waiting requests in enqueue order. */
  readonly waiting: readonly WaitingSnapshot[];
  readonly leases: readonly Lease[];
  readonly totals: SchedulerTotals;
}
