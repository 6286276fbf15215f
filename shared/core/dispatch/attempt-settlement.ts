import type { BackendConfig } from '../../config/schema.js';
import type { FailureVerdict, Refusal } from '../resilience/failure-classifier.js';
import { mayRetryBackend } from '../resilience/attempt-policy.js';
import type { CallState } from './call-state.js';
import type { DispatchContext } from './dispatch-context.js';
import { attemptRecord, exhausted } from './dispatch-errors.js';
import type { DispatchResult } from './dispatcher.js';
import type { AttemptResult } from './run-attempt.js';

/** A verdict other than `return`: the attempt did not serve the call. */
export type FailedVerdict = Exclude<FailureVerdict, { readonly action: 'return' }>;

/**
 * The attempt that serves the call: the backend's health records a success (its latency), the attempt is
 * recorded `served`, and the call's result carries everything the response stage needs.
 *
 * @example
 * if (attempt.verdict.action === 'return') return serve(ctx, call, backend, attempt, attempt.verdict.refusal);
 */
export function serve(
  ctx: DispatchContext,
  call: CallState,
  backend: BackendConfig,
  attempt: AttemptResult,
  refusal: Refusal | undefined,
): DispatchResult {
  ctx.health.recordSuccess(backend.id, attempt.durationMs);
  call.attempts.push(attemptRecord(backend, attempt, 'served'));
  return {
    response: attempt.response!,
    backend,
    attempts: call.attempts,
    backendWaitMs: call.waitedMs,
    retryWaitMs: call.retryWaitMs,
    abort: attempt.abort,
    release: attempt.release,
    idleTimeoutMs: attempt.idleTimeoutMs,
    refusal,
  };
}

/**
 * Settles a failed attempt (its same-backend retries used up). `fatal` — the caller left, or a failure
 * nobody can serve around — ends the call: the backend's breaker counts it or its trial is released, and
 * this throws the verdict's error. Otherwise the call moves on: the breaker counts the failure (or the
 * backend cools for its Retry-After), the backend is spent for this call unless `mayRetryBackend` says a
 * later pass may help, and the backend's own answer is held when it is the one to return if nobody serves.
 *
 * @example
 * settleFailure(ctx, call, backend, attempt, attempt.verdict); // then the plan's next backend
 */
export function settleFailure(
  ctx: DispatchContext,
  call: CallState,
  backend: BackendConfig,
  attempt: AttemptResult,
  verdict: FailedVerdict,
): void {
  call.lastVerdict = verdict;
  if (verdict.action === 'fatal') {
    if (verdict.countsAsBreakerFailure) ctx.health.recordFailure(backend.id, { countsAsBreakerFailure: true });
    else ctx.health.release(backend.id);
    call.attempts.push(attemptRecord(backend, attempt, 'fatal'));
    throw exhausted(verdict.errorCode ?? 'GW_ERR_REQUEST_CLIENT_CLOSED', call.attempts, undefined);
  }
  ctx.health.recordFailure(backend.id, {
    countsAsBreakerFailure: verdict.countsAsBreakerFailure,
    coolDownMs: verdict.action === 'failover' ? verdict.coolDownMs : undefined,
  });
  if (!mayRetryBackend({ ...attempt, verdict }, ctx.attemptPolicy)) call.spent.add(backend.id);
  if (attempt.response !== undefined && call.held === undefined) {
    call.held = { response: attempt.response, backend, index: call.attempts.length };
  }
  call.attempts.push(attemptRecord(backend, attempt, 'failover'));
}
