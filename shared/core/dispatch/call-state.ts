import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse } from '../../ports/backend-transport.js';
import type { Clock } from '../clock.js';
import { AttemptBudget } from '../resilience/backoff.js';
import type { FailureVerdict } from '../resilience/failure-classifier.js';
import type { DispatchContext } from './dispatch-context.js';
import type { AttemptRecord, DispatchInput } from './dispatcher.js';
import type { BodiesByModel } from './request-body.js';

/** A backend's own answer kept to return if no other backend serves (a 404 for a deployment missing there). */
export interface HeldAnswer {
  readonly response: BackendResponse;
  readonly backend: BackendConfig;
  /** Its attempt's index in {@link CallState.attempts}. */
  readonly index: number;
}

/** One call's progress through its pool. */
export interface CallState {
  readonly attempts: AttemptRecord[];
  readonly budget: AttemptBudget;
  /** Request bodies by the model name written into them (a backend's `models` map may rename the model). */
  readonly bodies: BodiesByModel;
  /** Time spent waiting on backends, all attempts. */
  waitedMs: number;
  /** Time spent between attempts: backoff, waits for a cooling backend (requeued or in place). */
  retryWaitMs: number;
  lastVerdict: FailureVerdict | undefined;
  /** Waits for a cooling backend so far (bounded by `retry.maxAttempts`). */
  capacityWaits: number;
  /** Backends not to try again in this call (`mayRetryBackend`). */
  readonly spent: Set<string>;
  held: HeldAnswer | undefined;
  /** Whether a backend of the current pass granted an attempt (its breaker let the call through). */
  attemptedThisPass?: boolean;
}

/**
 * A call's state at its start: the attempt and time budgets from `retry`, nothing waited yet, the backends
 * the input excludes already spent.
 *
 * @example
 * const call = startCall(ctx, input);
 */
export function startCall(ctx: DispatchContext, input: DispatchInput): CallState {
  const { retry } = ctx.resilience;
  return {
    attempts: [],
    budget: new AttemptBudget(
      {
        maxAttempts: retry.maxAttempts,
        totalBudgetMs: retry.totalBudgetMs,
        baseDelayMs: retry.backoffBaseMs,
        maxDelayMs: retry.backoffMaxMs,
      },
      ctx.clock.now(),
    ),
    bodies: new Map(),
    waitedMs: 0,
    retryWaitMs: 0,
    lastVerdict: undefined,
    capacityWaits: 0,
    spent: new Set(input.excludeBackendIds),
    held: undefined,
  };
}

/**
 * Waits between attempts, counted apart from the gateway's own time (`server-timing` `retry;dur=`).
 *
 * @example
 * await pause(clock, call, () => abortableDelay(delayMs, input.signal));
 */
export async function pause(clock: Clock, call: CallState, wait: () => Promise<void>): Promise<void> {
  const pausedAt = clock.monotonicMs();
  try {
    await wait();
  } finally {
    call.retryWaitMs += clock.monotonicMs() - pausedAt;
  }
}
