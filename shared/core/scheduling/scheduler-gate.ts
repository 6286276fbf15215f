import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { PriorityScheduler } from './priority-scheduler.js';
import type {
  EnqueueResult,
  GroupCapacity,
  Lease,
  ScheduleRequest,
  SchedulerEffects,
  SchedulerStats,
} from './scheduler-types.js';

/**
 * Arms a one-shot timer and returns a function that disarms it. Injected so that tests drive time with a
 * fake clock; the default wraps `setTimeout`.
 */
export type SetTimer = (callback: () => void, delayMs: number) => () => void;

/** What the gate needs from its host. */
export interface SchedulerGateDeps {
  readonly scheduler: PriorityScheduler;
  readonly clock: Clock;
  /** Default: `setTimeout`, unref'd so that a pending wake-up never keeps the process alive. */
  readonly setTimer?: SetTimer;
  /** Told about every lease reclaimed by the lease TTL (a request that never released: telemetry). */
  readonly onLeaseExpired?: (lease: Lease) => void;
  /** Told about every lease granted to a waiting or arriving request (the status page's grants per second). */
  readonly onGrant?: (lease: Lease) => void;
  /** Told after every change the gate applied (queued, granted, released …): capacity sharing looks again. */
  readonly onChange?: () => void;
}

/** A request for a slot, with the caller's abort signal (client disconnect). */
export interface AcquireRequest extends ScheduleRequest {
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly resolve: (lease: Lease) => void;
  readonly reject: (error: unknown) => void;
  readonly detach: () => void;
}

/** `setTimeout` cannot wait longer than 2^31 − 1 ms; a longer wait is re-armed when the timer fires. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

const defaultSetTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * The in-process async face of a {@link PriorityScheduler}: `acquire` resolves with a lease when the
 * request is granted, rejects with `GW_ERR_QUEUE_FULL` (with `retryAfterMs`) when its level's queue is
 * full, with `GW_ERR_REQUEST_TTL_EXPIRED` when its TTL passes while it waits, and with the signal's
 * reason when the caller aborts (its entry is removed at once).
 *
 * Time: the gate owns one timer, armed for the scheduler's next wake-up (the earliest TTL, lease expiry
 * or spill delay), not one timer per waiting request. It is re-armed only when a wake-up comes earlier than the
 * one it is armed for; when it fires with nothing due (the lease it was armed for was released), it arms again.
 *
 * @example
 * const gate = new SchedulerGate({ scheduler, clock: systemClock });
 * const signal = request.signal;
 * const lease = await gate.acquire({ requestId, poolId: 'gpt-4o', priority: 2, userId, deadlineMs, signal });
 * try {
 *   return await dispatch(lease.groupId);
 * } finally {
 *   gate.release(lease);
 * }
 */
export class SchedulerGate {
  /** The scheduler this gate drives (for stats and admin views). */
  readonly scheduler: PriorityScheduler;
  private readonly clock: Clock;
  private readonly setTimer: SetTimer;
  private readonly onLeaseExpired: ((lease: Lease) => void) | undefined;
  private readonly onGrant: ((lease: Lease) => void) | undefined;
  private readonly onChange: (() => void) | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private disarm: (() => void) | undefined;
  private armedAtMs: number | undefined;
  private disposed = false;

  constructor(deps: SchedulerGateDeps) {
    this.scheduler = deps.scheduler;
    this.clock = deps.clock;
    this.setTimer = deps.setTimer ?? defaultSetTimer;
    this.onLeaseExpired = deps.onLeaseExpired;
    this.onGrant = deps.onGrant;
    this.onChange = deps.onChange;
  }

  /** Number of requests waiting through this gate. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Waits for a slot. See the class description for how it settles.
   *
   * @example
   * const deadlineMs = clock.now() + 30_000;
   * const lease = await gate.acquire({ requestId: 'r1', poolId: 'p', priority: 1, userId: 'u', deadlineMs });
   */
  acquire(request: AcquireRequest): Promise<Lease> {
    if (this.disposed) return Promise.reject(new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN'));
    const { signal } = request;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    let result: EnqueueResult;
    try {
      // The scheduler copies the fields it keeps: the request goes as it is, its signal unread.
      result = this.scheduler.enqueue(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Granted at once (a free slot, the usual case): no executor, no resolving functions, no waiter.
    if (result.kind === 'granted') return this.grantedAtOnce(result);
    return new Promise<Lease>((resolve, reject) => {
      if (result.kind === 'rejected') {
        reject(new GatewayError(result.code, { retryAfterMs: result.retryAfterMs }));
      } else {
        const onAbort = (): void => {
          if (this.waiters.get(request.requestId) !== waiter) return;
          this.waiters.delete(request.requestId);
          reject(signal?.reason);
          this.apply(this.scheduler.cancel(request.requestId));
        };
        const waiter: Waiter = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener('abort', onAbort),
        };
        this.waiters.set(request.requestId, waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      }
      this.apply(result);
    });
  }

  /** What the executor of `acquire`'s promise did for a request granted at once, in the same order. */
  private grantedAtOnce(result: EnqueueResult & { readonly kind: 'granted' }): Promise<Lease> {
    try {
      this.onGrant?.(result.lease);
    } catch (error) {
      return Promise.reject(error);
    }
    const granted = Promise.resolve(result.lease);
    try {
      this.apply(result);
    } catch {
      // As in an executor after its resolve: the call has its lease; what a listener threw changes nothing.
    }
    return granted;
  }

  /**
   * Returns a lease's slot; waiting requests it makes possible are resolved. Idempotent.
   *
   * @example
   * gate.release(lease);
   */
  release(lease: Lease | string): void {
    this.apply(this.scheduler.release(typeof lease === 'string' ? lease : lease.leaseId));
  }

  /**
   * Forwards a capacity change of a pool (backends opened, closed, cooled or recovered) and resolves the
   * waiters it makes possible, in priority order.
   */
  setCapacity(poolId: string, groups: readonly GroupCapacity[]): void {
    this.apply(this.scheduler.setCapacity(poolId, groups));
  }

  /** The scheduler's figures. */
  stats(): SchedulerStats {
    return this.scheduler.stats();
  }

  /**
   * Stops the gate: every waiter is removed from the scheduler and rejected with
   * `GW_ERR_SERVICE_SHUTTING_DOWN`; later `acquire` calls reject the same way. Held leases stay valid
   * and can still be released.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disarmTimer();
    const waiters = [...this.waiters.entries()];
    this.waiters.clear();
    for (const [requestId, waiter] of waiters) {
      waiter.detach();
      this.scheduler.cancel(requestId);
      waiter.reject(new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN'));
    }
  }

  private onTimer(): void {
    this.disarm = undefined;
    this.armedAtMs = undefined;
    if (this.disposed) return;
    this.apply(this.scheduler.tick());
  }

  private apply(first: SchedulerEffects): void {
    // A grant nobody waits for (the waiter is gone) is returned at once; that release may grant others,
    // so effects are processed as a work list. Each round removes one lease, so the list ends.
    const pending: SchedulerEffects[] = [first];
    for (let effects = pending.pop(); effects !== undefined; effects = pending.pop()) {
      for (const lease of effects.grants) {
        const waiter = this.waiters.get(lease.requestId);
        if (waiter === undefined) {
          pending.push(this.scheduler.release(lease.leaseId));
          continue;
        }
        this.waiters.delete(lease.requestId);
        waiter.detach();
        this.onGrant?.(lease);
        waiter.resolve(lease);
      }
      for (const expired of effects.expired) {
        const waiter = this.waiters.get(expired.requestId);
        if (waiter === undefined) continue;
        this.waiters.delete(expired.requestId);
        waiter.detach();
        waiter.reject(new GatewayError('GW_ERR_REQUEST_TTL_EXPIRED', { details: { waitedMs: expired.waitedMs } }));
      }
      for (const lease of effects.expiredLeases) this.onLeaseExpired?.(lease);
    }
    this.rearm();
    this.onChange?.();
  }

  private rearm(): void {
    if (this.disposed) return;
    const next = this.scheduler.nextWakeAtMs();
    // A timer armed for no later than the next wake-up stays: waking early only finds nothing due and arms again.
    // Re-arming on every change cost a timer per call (each lease moves the earliest lease expiry).
    if (next === undefined || (this.armedAtMs !== undefined && this.armedAtMs <= next)) return;
    this.disarmTimer();
    const delayMs = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, next - this.clock.now()));
    this.armedAtMs = next;
    this.disarm = this.setTimer(() => this.onTimer(), delayMs);
  }

  private disarmTimer(): void {
    this.disarm?.();
    this.disarm = undefined;
    this.armedAtMs = undefined;
  }
}
