import type { BreakerStateName } from '../../ports/backend-health-store.js';

/**
 * Thresholds of a circuit breaker. A plain object: pass a new one to any transition and the next
 * decision uses it (hot reload).
 */
export interface CircuitBreakerOptions {
  /** Failures in the window needed to open (all three conditions must hold). */
  readonly failureThreshold: number;
  /** Calls (successes + failures) in the window needed before the breaker may open. */
  readonly minimumRequests: number;
  /** Failure share of the calls in the window needed to open, 0..1. */
  readonly failureRatio: number;
  /** Length of the sliding window. */
  readonly windowMs: number;
  /** Buckets the window is cut into (memory is bounded by this). */
  readonly windowBuckets: number;
  /** How long the breaker stays open the first time. */
  readonly openIntervalMs: number;
  /** Each consecutive open (a failed trial) multiplies the interval by this; 1 keeps it fixed. */
  readonly openIntervalMultiplier: number;
  /** Cap of the growing open interval. */
  readonly maxOpenIntervalMs: number;
  /** A half-open trial that has not reported back after this long is released, and another may start. */
  readonly trialTimeoutMs: number;
}

/** Defaults of {@link CircuitBreakerOptions} (documented in `docs/resilience.md`). */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  failureThreshold: 5,
  minimumRequests: 10,
  failureRatio: 0.5,
  windowMs: 30_000,
  windowBuckets: 10,
  openIntervalMs: 2_000,
  openIntervalMultiplier: 2,
  maxOpenIntervalMs: 30_000,
  trialTimeoutMs: 90_000,
};

/** Outcomes counted in one slice of the sliding window. */
export interface BreakerBucket {
  readonly startMs: number;
  readonly successes: number;
  readonly failures: number;
}

/**
 * A circuit breaker's complete, JSON-serialisable state. Every transition is a pure function from
 * one state to the next.
 */
export interface CircuitBreakerState {
  readonly state: BreakerStateName;
  /** Outcomes of the last `windowMs`, oldest first; at most `windowBuckets + 1` entries. Empty unless closed. */
  readonly buckets: readonly BreakerBucket[];
  readonly openedAtMs?: number;
  /** When the open breaker admits its trial. */
  readonly openUntilMs?: number;
  /** True while the half-open trial call is out. */
  readonly trialInFlight: boolean;
  readonly trialStartedAtMs?: number;
  /** Opens since the last close; grows the open interval. */
  readonly consecutiveOpens: number;
}

/** The answer of {@link acquireCircuitBreaker}. */
export type BreakerAcquisition =
  | { readonly permitted: true; readonly trial: boolean; readonly state: CircuitBreakerState }
  | {
      readonly permitted: false;
      readonly reason: 'open' | 'trial-in-flight';
      readonly retryAtMs: number;
      readonly state: CircuitBreakerState;
    };

/**
 * A closed breaker with an empty window.
 *
 * @example
 * let breaker = closedCircuitBreaker();
 */
export function closedCircuitBreaker(): CircuitBreakerState {
  return { state: 'closed', buckets: [], trialInFlight: false, consecutiveOpens: 0 };
}

/**
 * Asks for permission to send one call. Closed: yes. Open before `openUntilMs`: no. Open after it:
 * the breaker turns half-open and this caller gets the single trial. Half-open with the trial out:
 * no, unless the trial has been out longer than `trialTimeoutMs` (then this caller takes it over).
 *
 * @example
 * const a = acquireCircuitBreaker(breaker, clock.now(), options);
 * if (!a.permitted) skip(a.retryAtMs);
 * breaker = a.state;
 */
export function acquireCircuitBreaker(
  current: CircuitBreakerState,
  nowMs: number,
  options: CircuitBreakerOptions,
): BreakerAcquisition {
  if (current.state === 'closed') return { permitted: true, trial: false, state: current };
  if (current.state === 'open' && nowMs < (current.openUntilMs ?? 0)) {
    return { permitted: false, reason: 'open', retryAtMs: current.openUntilMs ?? nowMs, state: current };
  }
  if (current.state === 'half-open' && current.trialInFlight) {
    const releaseAtMs = (current.trialStartedAtMs ?? 0) + options.trialTimeoutMs;
    if (nowMs < releaseAtMs)
      return { permitted: false, reason: 'trial-in-flight', retryAtMs: releaseAtMs, state: current };
  }
  return {
    permitted: true,
    trial: true,
    state: { ...current, state: 'half-open', buckets: [], trialInFlight: true, trialStartedAtMs: nowMs },
  };
}

/**
 * Records a successful call. Closed: counted in the window. Half-open: closes the breaker (window and
 * consecutive opens reset). Open: ignored (a call that started before the trip).
 *
 * @example
 * breaker = recordCircuitBreakerSuccess(breaker, clock.now(), options);
 */
export function recordCircuitBreakerSuccess(
  current: CircuitBreakerState,
  nowMs: number,
  options: CircuitBreakerOptions,
): CircuitBreakerState {
  if (current.state === 'half-open') return closedCircuitBreaker();
  if (current.state === 'open') return current;
  return { ...current, buckets: addToWindow(current.buckets, nowMs, options, 'successes') };
}

/**
 * Records a failed call. Closed: counted, and the breaker opens when the window holds at least
 * `failureThreshold` failures, `minimumRequests` calls and a `failureRatio` share of failures.
 * Half-open: re-opens with a longer interval. Open: ignored.
 *
 * @example
 * breaker = recordCircuitBreakerFailure(breaker, clock.now(), options);
 * if (breaker.state === 'open') persistTrip();
 */
export function recordCircuitBreakerFailure(
  current: CircuitBreakerState,
  nowMs: number,
  options: CircuitBreakerOptions,
): CircuitBreakerState {
  if (current.state === 'half-open') return tripCircuitBreaker(current, nowMs, options);
  if (current.state === 'open') return current;
  const buckets = addToWindow(current.buckets, nowMs, options, 'failures');
  const { successes, failures } = windowTotals(buckets, nowMs, options);
  const total = successes + failures;
  if (
    failures >= options.failureThreshold &&
    total >= options.minimumRequests &&
    failures / total >= options.failureRatio
  ) {
    return tripCircuitBreaker(current, nowMs, options);
  }
  return { ...current, buckets };
}

/**
 * Releases a half-open trial without an outcome (the attempt was never sent, or it ended in a way
 * that says nothing about the backend, such as a 429 or the caller going away): the next caller may
 * take the trial.
 *
 * @example
 * breaker = releaseCircuitBreakerTrial(breaker);
 */
export function releaseCircuitBreakerTrial(current: CircuitBreakerState): CircuitBreakerState {
  if (!current.trialInFlight) return current;
  const { trialStartedAtMs: _dropped, ...rest } = current;
  return { ...rest, trialInFlight: false };
}

/**
 * Opens the breaker now, whatever its state (also used when health probes declare the backend down,
 * or another instance's trip is adopted). The interval grows with consecutive opens:
 * `openIntervalMs × multiplier^(opens − 1)`, capped at `maxOpenIntervalMs`.
 *
 * @example
 * breaker = tripCircuitBreaker(breaker, clock.now(), options);
 */
export function tripCircuitBreaker(
  current: CircuitBreakerState,
  nowMs: number,
  options: CircuitBreakerOptions,
): CircuitBreakerState {
  const consecutiveOpens = current.consecutiveOpens + 1;
  return {
    state: 'open',
    buckets: [],
    openedAtMs: nowMs,
    openUntilMs: nowMs + openIntervalMs(consecutiveOpens, options),
    trialInFlight: false,
    consecutiveOpens,
  };
}

/**
 * Length of the open interval after `consecutiveOpens` opens.
 *
 * @example
 * openIntervalMs(3, { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS }) // → 120_000 (30 s × 2²)
 */
export function openIntervalMs(consecutiveOpens: number, options: CircuitBreakerOptions): number {
  const exponent = Math.max(0, Math.min(consecutiveOpens - 1, 32));
  return Math.min(
    options.openIntervalMs * Math.max(1, options.openIntervalMultiplier) ** exponent,
    Math.max(options.maxOpenIntervalMs, options.openIntervalMs),
  );
}

/**
 * When a call could next be permitted: `nowMs` or earlier if permitted now, else the end of the open
 * interval or of the trial timeout.
 *
 * @example
 * const retryAtMs = circuitBreakerAvailableAtMs(breaker, clock.now(), options);
 */
export function circuitBreakerAvailableAtMs(
  current: CircuitBreakerState,
  nowMs: number,
  options: CircuitBreakerOptions,
): number {
  if (current.state === 'open') return current.openUntilMs ?? nowMs;
  if (current.state === 'half-open' && current.trialInFlight)
    return (current.trialStartedAtMs ?? 0) + options.trialTimeoutMs;
  return nowMs;
}

/**
 * Successes and failures inside the window at `nowMs`.
 *
 * @example
 * const { successes, failures } = windowTotals(breaker.buckets, clock.now(), options);
 */
export function windowTotals(
  buckets: readonly BreakerBucket[],
  nowMs: number,
  options: CircuitBreakerOptions,
): { successes: number; failures: number } {
  let successes = 0;
  let failures = 0;
  for (const bucket of buckets) {
    if (!inWindow(bucket, nowMs, options)) continue;
    successes += bucket.successes;
    failures += bucket.failures;
  }
  return { successes, failures };
}

// Why: a bucket covers [startMs, startMs + width); it stays in the window while any part of it is
// younger than windowMs, so the window is at most one bucket longer than windowMs, never shorter.
function inWindow(bucket: BreakerBucket, nowMs: number, options: CircuitBreakerOptions): boolean {
  return bucket.startMs + bucketWidthMs(options) > nowMs - options.windowMs && bucket.startMs <= nowMs;
}

function bucketWidthMs(options: CircuitBreakerOptions): number {
  return Math.max(1, Math.floor(options.windowMs / Math.max(1, options.windowBuckets)));
}

function addToWindow(
  buckets: readonly BreakerBucket[],
  nowMs: number,
  options: CircuitBreakerOptions,
  field: 'successes' | 'failures',
): BreakerBucket[] {
  const width = bucketWidthMs(options);
  const startMs = Math.floor(nowMs / width) * width;
  const kept = buckets.filter((b) => inWindow(b, nowMs, options));
  const last = kept[kept.length - 1];
  if (last !== undefined && last.startMs === startMs) {
    // Spelled out, not `{ ...last, [field]: … }`: a computed key in a literal takes V8's slow path (every call).
    kept[kept.length - 1] =
      field === 'successes'
        ? { startMs: last.startMs, successes: last.successes + 1, failures: last.failures }
        : { startMs: last.startMs, successes: last.successes, failures: last.failures + 1 };
  } else {
    kept.push({ startMs, successes: field === 'successes' ? 1 : 0, failures: field === 'failures' ? 1 : 0 });
  }
  const maxBuckets = Math.max(1, options.windowBuckets) + 1;
  return kept.length > maxBuckets ? kept.slice(kept.length - maxBuckets) : kept;
}
