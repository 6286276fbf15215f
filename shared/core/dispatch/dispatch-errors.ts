import type { BackendConfig } from '../../config/schema.js';
import type { ErrorCode } from '../errors/error-registry.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { TransportErrorKind } from '../resilience/failure-classifier.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { AttemptRecord } from './dispatcher.js';

const attemptsByError = new WeakMap<GatewayError, readonly AttemptRecord[]>();

/**
 * The attempts a failed dispatch made (empty for errors that did not come from the attempt loop).
 *
 * @example
 * try {
 *   await dispatcher.dispatch(input);
 * } catch (error) {
 *   summary.attempts = [...summary.attempts, ...attemptsOf(error)];
 * }
 */
export function attemptsOf(error: unknown): readonly AttemptRecord[] {
  return error instanceof GatewayError ? (attemptsByError.get(error) ?? []) : [];
}

/**
 * The error envelope's view of attempts: backend name (never its URL), status or error, duration.
 *
 * @example
 * attemptsForEnvelope(attempts) // [{ backend: 'aoai-east', status: 429, error: null, duration_ms: 12 }]
 */
export function attemptsForEnvelope(attempts: readonly AttemptRecord[]): unknown[] {
  return attempts.map((a) => ({
    backend: a.backend,
    status: a.status ?? null,
    error: a.error ?? null,
    duration_ms: Math.round(a.durationMs),
  }));
}

/**
 * The error a dispatch ends with: `code`, the attempts made so far (in its envelope's details, and for
 * {@link attemptsOf}) and, when retrying can help, when.
 *
 * @example
 * throw exhausted('GW_ERR_BACKEND_ALL_OPEN', call.attempts, 2_000);
 */
export function exhausted(
  code: ErrorCode,
  attempts: readonly AttemptRecord[],
  retryAfterMs: number | undefined,
): GatewayError {
  const error = new GatewayError(code, { retryAfterMs, details: { attempts: attemptsForEnvelope(attempts) } });
  attemptsByError.set(error, [...attempts]);
  return error;
}

/**
 * One attempt as the usage record, headers and error bodies report it.
 *
 * @example
 * call.attempts.push(attemptRecord(backend, attempt, 'failover'));
 */
export function attemptRecord(
  backend: BackendConfig,
  attempt: { status: number | undefined; errorKind: TransportErrorKind | undefined; durationMs: number },
  outcome: AttemptRecord['outcome'],
): AttemptRecord {
  return {
    backend: backend.id,
    group: backend.group,
    status: attempt.status,
    error: attempt.errorKind,
    durationMs: attempt.durationMs,
    outcome,
  };
}

/**
 * How long until the first of `backendIds` reopens, when one is still closed to calls at `nowMs`.
 *
 * @example
 * earliestRetryMs(health, ['a', 'b'], clock.now()) // 1800: 'a' reopens in 1.8 s
 */
export function earliestRetryMs(
  health: HealthTracker,
  backendIds: readonly string[],
  nowMs: number,
): number | undefined {
  const at = health.earliestReopenMs(backendIds);
  return at === undefined || at <= nowMs ? undefined : at - nowMs;
}
