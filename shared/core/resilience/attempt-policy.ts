import type { FailureVerdict, TransportErrorKind } from './failure-classifier.js';

/** Options of {@link mayRetryBackend}. */
export interface AttemptPolicyOptions {
  /** A failure that took at least this long (request sent → failure) is slow: that backend is spent for the call. */
  readonly fastFailureMs: number;
}

/** Defaults of {@link AttemptPolicyOptions} (`retry.fastFailureMs`). */
export const DEFAULT_ATTEMPT_POLICY_OPTIONS: AttemptPolicyOptions = { fastFailureMs: 2_000 };

/** What the attempt loop knows about a failed attempt, for {@link mayRetryBackend}. */
export interface FailedAttempt {
  readonly verdict: FailureVerdict;
  /** The backend's status, when it answered. */
  readonly status?: number | undefined;
  /** The transport failure, when it did not answer. */
  readonly errorKind?: TransportErrorKind | undefined;
  /** From sending the request to the failure. */
  readonly durationMs: number;
}

/** Statuses worth another try on the same backend when they come fast and without a Retry-After. */
const FAST_TRANSIENT_STATUSES: ReadonlySet<number> = new Set([500, 502, 503]);

/**
 * Whether a backend that just failed may be tried again later in the same call (a later pass over the
 * pool, after a backoff). Attempts are spent where they can help:
 * - a backend that timed out (connect, first byte, idle before the first byte, its attempt deadline) or that
 *   failed only after a long silence (`durationMs ≥ fastFailureMs`) is spent: the call moves to the pool's
 *   other members, then the route's fallbacks, at once — a silent backend is not waited for twice;
 * - a fast transient failure may be retried while the budget lasts: a connection reset before the headers,
 *   500 / 502 / 503 without Retry-After;
 * - a backend cooling for a Retry-After (429, a 503 that says when to come back) stays: the health view skips
 *   it until the cooling ends, and a call whose every backend cools waits for the earliest;
 * - anything else (408, 504, other 5xx, 401/403 on the gateway's credentials, a deployment missing there,
 *   refused connections, DNS) is spent.
 *
 * The table is in `docs/resilience.md` §1.1.
 *
 * @example
 * mayRetryBackend({ verdict, errorKind: 'ttfb-timeout', durationMs: 60_000 }, DEFAULT_ATTEMPT_POLICY_OPTIONS);
 * // → false
 * mayRetryBackend({ verdict, status: 503, durationMs: 40 }, DEFAULT_ATTEMPT_POLICY_OPTIONS) // → true
 */
export function mayRetryBackend(attempt: FailedAttempt, options: AttemptPolicyOptions): boolean {
  const { verdict } = attempt;
  if (verdict.action === 'retry-same') return true;
  if (verdict.action !== 'failover') return false;
  // A cooling backend (429, Retry-After) stays in the call: the health view skips it until the cooling ends,
  // and a call whose every backend cools waits for the earliest (requeued at its priority).
  if (verdict.coolDownMs !== undefined) return true;
  if (attempt.durationMs >= options.fastFailureMs) return false;
  if (attempt.errorKind !== undefined) return attempt.errorKind === 'reset';
  return attempt.status !== undefined && FAST_TRANSIENT_STATUSES.has(attempt.status);
}
