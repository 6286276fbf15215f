import type { BackendConfig } from '../../config/schema.js';
import { serve, settleFailure } from './attempt-settlement.js';
import type { CallState } from './call-state.js';
import type { DispatchContext } from './dispatch-context.js';
import { exhausted } from './dispatch-errors.js';
import type { DispatchInput, DispatchResult } from './dispatcher.js';
import type { Candidate } from './pool-candidates.js';
import { runAttempt } from './run-attempt.js';

/**
 * One pass over the selector's plan: the first backend that answers serves the call. A backend whose breaker
 * refuses (a half-open trial already in flight) is skipped; the pass stops when the caller has left, the
 * attempt budget is spent or the TTL has run out. Undefined: nobody served in this pass.
 *
 * @example
 * const served = await tryPlan(ctx, input, call, selection.plan);
 */
export async function tryPlan(
  ctx: DispatchContext,
  input: DispatchInput,
  call: CallState,
  plan: readonly Candidate[],
): Promise<DispatchResult | undefined> {
  const { clock } = ctx;
  call.attemptedThisPass = false;
  for (const { backend } of plan) {
    if (input.signal.aborted) throw exhausted('GW_ERR_REQUEST_CLIENT_CLOSED', call.attempts, undefined);
    if (!call.budget.canAttempt(clock.now()) || clock.now() >= input.deadlineMs) break;
    const acquisition = ctx.health.tryAcquire(backend.id, clock.now());
    if (!acquisition.granted) continue;
    call.attemptedThisPass = true;
    const served = await tryBackend(ctx, input, call, backend);
    if (served !== undefined) return served;
  }
  return undefined;
}

/** Attempts on one backend (a reused socket's reset is retried at once); undefined = move on. */
async function tryBackend(
  ctx: DispatchContext,
  input: DispatchInput,
  call: CallState,
  backend: BackendConfig,
): Promise<DispatchResult | undefined> {
  for (let sameBackendRetries = 0; ; sameBackendRetries++) {
    call.budget.recordAttempt();
    const attempt = await runAttempt(ctx, input, backend, call.bodies, sameBackendRetries);
    call.waitedMs += attempt.durationMs;
    const { verdict } = attempt;
    if (verdict.action === 'return') return serve(ctx, call, backend, attempt, verdict.refusal);
    if (verdict.action === 'retry-same' && call.budget.canAttempt(ctx.clock.now())) continue;
    settleFailure(ctx, call, backend, attempt, verdict);
    return undefined;
  }
}
