import type { CallState } from './call-state.js';
import type { DispatchContext } from './dispatch-context.js';
import { earliestRetryMs, exhausted } from './dispatch-errors.js';
import type { DispatchInput, DispatchResult } from './dispatcher.js';
import type { Candidate } from './pool-candidates.js';

/**
 * After a pass over the plan that served nobody: a call whose TTL ran out before (or between) attempts is
 * expired, whatever the backends' state; a pass where every backend's breaker refused (a half-open trial in
 * flight elsewhere) and no attempt was ever made answers as all open. Otherwise the loop goes on.
 *
 * @example
 * const served = await tryPlan(ctx, input, call, plan);
 * if (served === undefined) endOfPass(ctx, input, call, eligible);
 */
export function endOfPass(
  ctx: DispatchContext,
  input: DispatchInput,
  call: CallState,
  eligible: readonly Candidate[],
): void {
  const { clock } = ctx;
  if (clock.now() >= input.deadlineMs) throw exhausted('GW_ERR_REQUEST_TTL_EXPIRED', call.attempts, undefined);
  if (!call.attemptedThisPass && call.attempts.length === 0) {
    const reopenAt = ctx.health.earliestReopenMs(eligible.map((c) => c.id));
    throw exhausted(
      'GW_ERR_BACKEND_ALL_OPEN',
      call.attempts,
      reopenAt === undefined ? 1000 : Math.max(1000, reopenAt - clock.now()),
    );
  }
}

/**
 * The pool is exhausted: a backend's own answer kept for this case (a 404 for a deployment missing on every
 * member) goes back verbatim; otherwise the error of the last failure, so the route's fallbacks may take over
 * (429 throttled when every attempt was throttled).
 *
 * @example
 * return endOfPool(ctx, input, call); // after the last pass
 */
export function endOfPool(ctx: DispatchContext, input: DispatchInput, call: CallState): DispatchResult {
  const held = call.held;
  if (held !== undefined) {
    const served = call.attempts[held.index]!;
    call.attempts[held.index] = { ...served, outcome: 'served' };
    return {
      response: held.response,
      backend: held.backend,
      attempts: call.attempts,
      backendWaitMs: call.waitedMs,
      retryWaitMs: call.retryWaitMs,
      abort: () => undefined,
      release: () => undefined,
      idleTimeoutMs: ctx.resilience.deadlines.idleMs,
      refusal: undefined,
    };
  }
  const verdict = call.lastVerdict;
  const code = verdict !== undefined && verdict.action === 'failover' ? verdict.errorCode : 'GW_ERR_BACKEND_EXHAUSTED';
  const allThrottled = call.attempts.length > 0 && call.attempts.every((a) => a.status === 429);
  throw exhausted(
    allThrottled ? 'GW_ERR_BACKEND_THROTTLED' : code,
    call.attempts,
    earliestRetryMs(
      ctx.health,
      ctx.candidates(input.pool).map((c) => c.id),
      ctx.clock.now(),
    ),
  );
}
