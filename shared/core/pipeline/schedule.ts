import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { RequestDeadline } from '../resilience/request-deadline.js';
import type { SchedulerGate } from '../scheduling/scheduler-gate.js';
import type { Lease } from '../scheduling/scheduler-types.js';
import type { CallContext } from './admit.js';
import type { Call } from './call-summary.js';
import { poolMemberIds, type EngineSnapshot } from './engine-snapshot.js';

/** Dependencies of the schedule stage. */
export interface ScheduleDeps {
  readonly gate: Pick<SchedulerGate, 'acquire' | 'release'>;
  readonly health: Pick<HealthTracker, 'usableCount' | 'snapshot' | 'earliestReopenMs'>;
  readonly clock: Clock;
}

/** Thrown by {@link CallLeases.take} when a queued call reaches the sync wait and is to become a job. */
export const UPGRADE_TO_JOB: unique symbol = Symbol('upgrade to job');

/**
 * Resolves what `dispatching` resolves, or {@link UPGRADE_TO_JOB} when the call's wait for capacity passed
 * the sync wait and the call is to become a job; rejects with any other error.
 */
export async function orUpgrade<T>(dispatching: Promise<T>): Promise<T | typeof UPGRADE_TO_JOB> {
  try {
    return await dispatching;
  } catch (error) {
    if (error === UPGRADE_TO_JOB) return UPGRADE_TO_JOB;
    throw error;
  }
}

/**
 * **schedule**: the call's capacity lease. A call holds at most one lease, in the pool that serves it:
 * each route of the fallback chain calls {@link take} for its pool, which gives back the previous pool's
 * lease first. A call whose capacity is held elsewhere (a durable job) takes none.
 *
 * @example
 * const leases = new CallLeases(deps, snapshot, call, context, routed.deadline, undefined);
 * await leases.take('gpt-4o');
 * leases.release();
 */
export class CallLeases {
  private lease: Lease | undefined;
  private taken = 0;

  /**
   * @param upgradeAfterMs when set, the first lease waits at most this long; past it `take` throws
   *   {@link UPGRADE_TO_JOB} (the caller is still there) so the call can become a job.
   */
  constructor(
    private readonly deps: ScheduleDeps,
    private readonly s: EngineSnapshot,
    private readonly call: Call,
    private readonly context: CallContext,
    private readonly deadline: RequestDeadline,
    private readonly upgradeAfterMs: number | undefined,
  ) {}

  /** Takes a lease in `poolId` (waiting by priority), unless the call holds one there already. */
  readonly take = async (poolId: string): Promise<void> => {
    if (this.context.capacityHeld || this.lease?.poolId === poolId) return;
    this.release();
    const { signal, requestId } = this.call;
    const upgradeAfter =
      this.taken === 0 && this.upgradeAfterMs !== undefined ? AbortSignal.timeout(this.upgradeAfterMs) : undefined;
    try {
      this.lease = await acquireLease(
        this.deps,
        this.s,
        poolId,
        this.taken++ === 0 ? requestId : `${requestId}#${this.taken}`,
        this.context,
        this.deadline,
        upgradeAfter === undefined ? signal : AbortSignal.any([signal, upgradeAfter]),
      );
    } catch (error) {
      if (upgradeAfter?.aborted === true && !signal.aborted) throw UPGRADE_TO_JOB;
      throw error;
    }
    this.call.summary.lease = this.lease;
    // A job may have waited here long after its admit: its owner must still stand before it is sent.
    this.context.recheckStanding?.();
  };

  /**
   * Requeue: while every backend of `poolId` cools (429, `S7PREQUEUE`), the call gives its lease back — a
   * waiting call takes the slot meanwhile — waits until `untilMs`, then queues for a lease again at its
   * priority (docs/resilience.md §2). The wait ends early, with the caller's abort, if the caller leaves.
   */
  readonly requeue = async (poolId: string, untilMs: number, signal: AbortSignal): Promise<void> => {
    if (this.context.capacityHeld) return waitUntil(this.deps.clock, untilMs, signal);
    this.release();
    this.call.summary.requeues = (this.call.summary.requeues ?? 0) + 1;
    await waitUntil(this.deps.clock, untilMs, signal);
    await this.take(poolId);
  };

  /** Gives the lease back (idempotent). */
  release(): void {
    if (this.lease !== undefined) this.deps.gate.release(this.lease);
    this.lease = undefined;
  }
}

/** Waits until `untilMs` on the clock (a timer, not a poll); rejects with the caller's abort. */
function waitUntil(clock: Clock, untilMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, untilMs - clock.now()),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for a capacity lease in `poolId` by the call's priority. When no backend of the pool is usable the
 * call does not queue blindly: every breaker open → 503 `GW_ERR_BACKEND_ALL_OPEN` with the earliest
 * reopen; all cooling → wait only if the earliest cooling ends within the TTL and the Retry-After bound,
 * else 429 `GW_ERR_BACKEND_THROTTLED`.
 */
export function acquireLease(
  deps: ScheduleDeps,
  s: EngineSnapshot,
  poolId: string,
  requestId: string,
  context: CallContext,
  deadline: RequestDeadline,
  signal: AbortSignal,
): Promise<Lease> {
  // Not an async function: the gate's promise is returned as it is (an async wrapper cost a promise and turns).
  try {
    refuseUnusablePool(deps, s, poolId, deadline);
  } catch (error) {
    return Promise.reject(error);
  }
  return deps.gate.acquire({
    requestId,
    poolId,
    priority: Math.min(Math.max(1, context.priority), s.config.scheduling.levels),
    userId: context.caller.userId,
    deadlineMs: deadline.expiresAtMs,
    signal,
    leaseTtlMs: context.asyncJobId !== undefined ? s.config.async.runDeadlineMs + 60_000 : undefined,
  });
}

/** Throws when no backend of the pool is usable: every breaker open, or all cooling past the TTL or the bound. */
function refuseUnusablePool(deps: ScheduleDeps, s: EngineSnapshot, poolId: string, deadline: RequestDeadline): void {
  const ids = poolMemberIds(s.pools.get(poolId)!);
  if (ids.length === 0 || deps.health.usableCount(ids) > 0) return;
  const views = ids.map((id) => deps.health.snapshot(id));
  const now = deps.clock.now();
  const reopenMs = Math.max(1000, (deps.health.earliestReopenMs(ids) ?? now + 1000) - now);
  if (views.some((v) => v.state !== 'closed'))
    throw new GatewayError('GW_ERR_BACKEND_ALL_OPEN', { retryAfterMs: reopenMs });
  if (now + reopenMs >= deadline.expiresAtMs || reopenMs > s.config.resilience.retryAfter.maxMs)
    throw new GatewayError('GW_ERR_BACKEND_THROTTLED', { retryAfterMs: reopenMs });
}
