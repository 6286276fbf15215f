import type { ErrorCode } from '../errors/error-registry.js';
import { abortableDelay } from './abortable-delay.js';
import { pause, type CallState } from './call-state.js';
import type { DispatchContext } from './dispatch-context.js';
import { exhausted } from './dispatch-errors.js';
import type { DispatchInput } from './dispatcher.js';

/** Why the selector found no backend to try, and when the first one will be usable. */
export interface NoBackend {
  readonly reason: 'all-open' | 'all-cooling' | 'no-backends';
  readonly retryAtMs?: number;
}

/** What the call may still afford at `nowMs`, for {@link decideCapacityWait}. */
export interface CapacityWaitFacts {
  readonly nowMs: number;
  /** The call's TTL, in clock ms. */
  readonly deadlineMs: number;
  /** Waits for a cooling backend this call made already. */
  readonly waitsSoFar: number;
  /** The call's time budget left (`retry.totalBudgetMs`). */
  readonly budgetRemainingMs: number;
}

/** The bounds of waiting: at most `maxWaits` waits (`retry.maxAttempts`), each ≤ `maxRetryAfterMs`. */
export interface CapacityWaitLimits {
  readonly maxWaits: number;
  readonly maxRetryAfterMs: number;
}

/** Wait `waitMs` for the earliest cooling backend, or answer `code` now (with a `retry-after` when one helps). */
export type CapacityWait =
  | { readonly wait: true; readonly waitMs: number }
  | { readonly wait: false; readonly code: ErrorCode; readonly retryAfterMs: number | undefined };

/**
 * Nobody eligible: wait or answer? Only when every backend cools (429, APIM's `S7PREQUEUE`) and the earliest
 * cooling ends inside the TTL, the time budget and `retryAfter.maxMs`, with waits left, does the call wait —
 * until that backend's Retry-After ends (at least 1 ms: never a tight loop). Otherwise it answers at once:
 * 503 all open, 429 throttled beyond what it can wait, or none configured.
 *
 * @example
 * decideCapacityWait({ reason: 'all-cooling', retryAtMs: 1_400 }, { nowMs: 1_000, deadlineMs: 60_000,
 *   waitsSoFar: 0, budgetRemainingMs: 120_000 }, { maxWaits: 4, maxRetryAfterMs: 60_000 })
 * // → { wait: true, waitMs: 400 }
 */
export function decideCapacityWait(
  selection: NoBackend,
  facts: CapacityWaitFacts,
  limits: CapacityWaitLimits,
): CapacityWait {
  const { nowMs } = facts;
  const retryAfterMs = selection.retryAtMs === undefined ? undefined : Math.max(0, selection.retryAtMs - nowMs);
  if (
    selection.reason === 'all-cooling' &&
    facts.waitsSoFar < limits.maxWaits &&
    retryAfterMs !== undefined &&
    nowMs + retryAfterMs < facts.deadlineMs &&
    facts.budgetRemainingMs > retryAfterMs &&
    retryAfterMs <= limits.maxRetryAfterMs
  ) {
    return { wait: true, waitMs: Math.max(1, retryAfterMs) };
  }
  if (selection.reason === 'no-backends') {
    return { wait: false, code: 'GW_ERR_BACKEND_NONE_CONFIGURED', retryAfterMs: undefined };
  }
  return {
    wait: false,
    code: selection.reason === 'all-cooling' ? 'GW_ERR_BACKEND_THROTTLED' : 'GW_ERR_BACKEND_ALL_OPEN',
    retryAfterMs: retryAfterMs ?? 1000,
  };
}

/**
 * Carries out {@link decideCapacityWait}: waits in the scheduler when the host gives a `requeue` (the lease
 * goes back and the call queues again at its priority), else in place; or throws the answer.
 *
 * @example
 * if (!selection.ok) await waitForCapacity(ctx, input, call, selection); // then the next pass
 */
export async function waitForCapacity(
  ctx: DispatchContext,
  input: DispatchInput,
  call: CallState,
  selection: NoBackend,
): Promise<void> {
  const nowMs = ctx.clock.now();
  const decision = decideCapacityWait(
    selection,
    {
      nowMs,
      deadlineMs: input.deadlineMs,
      waitsSoFar: call.capacityWaits,
      budgetRemainingMs: call.budget.remainingMs(nowMs),
    },
    { maxWaits: ctx.resilience.retry.maxAttempts, maxRetryAfterMs: ctx.resilience.retryAfter.maxMs },
  );
  if (!decision.wait) throw exhausted(decision.code, call.attempts, decision.retryAfterMs);
  call.capacityWaits++;
  const { waitMs } = decision;
  await pause(ctx.clock, call, () =>
    input.requeue === undefined ? abortableDelay(waitMs, input.signal) : input.requeue(nowMs + waitMs, input.signal),
  );
}
