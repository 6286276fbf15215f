import { describe, expect, it } from 'vitest';
import {
  acquireCircuitBreaker,
  circuitBreakerAvailableAtMs,
  closedCircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  openIntervalMs,
  recordCircuitBreakerFailure,
  recordCircuitBreakerSuccess,
  releaseCircuitBreakerTrial,
  tripCircuitBreaker,
  windowTotals,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
} from './circuit-breaker.js';

const options: CircuitBreakerOptions = {
  ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  failureThreshold: 3,
  minimumRequests: 4,
  failureRatio: 0.5,
  windowMs: 10_000,
  windowBuckets: 10,
  openIntervalMs: 5_000,
  openIntervalMultiplier: 2,
  maxOpenIntervalMs: 15_000,
  trialTimeoutMs: 2_000,
};
const t0 = 1_000_000;

function apply(
  state: CircuitBreakerState,
  outcomes: string,
  startMs: number,
  stepMs = 1,
  opts = options,
): CircuitBreakerState {
  let s = state;
  [...outcomes].forEach((o, i) => {
    s =
      o === 'F'
        ? recordCircuitBreakerFailure(s, startMs + i * stepMs, opts)
        : recordCircuitBreakerSuccess(s, startMs + i * stepMs, opts);
  });
  return s;
}

describe('circuit breaker: closed → open', () => {
  it.each<[string, string, 'closed' | 'open']>([
    ['3 failures but only 3 calls (below minimumRequests)', 'FFF', 'closed'],
    ['3 failures in 4 calls', 'SFFF', 'open'],
    ['4 failures in 4 calls', 'FFFF', 'open'],
    ['2 failures in 4 calls (below threshold)', 'SSFF', 'closed'],
    ['3 failures in 7 calls (ratio 0.43 < 0.5)', 'SSSSFFF', 'closed'],
    ['4 failures in 8 calls (ratio 0.5)', 'SSSSFFFF', 'open'],
    ['successes only', 'SSSSSSSS', 'closed'],
  ])('%s → %s', (_name, outcomes, expected) => {
    expect(apply(closedCircuitBreaker(), outcomes, t0).state).toBe(expected);
  });

  it('forgets failures older than the window (pruned, not merely ignored)', () => {
    let s = apply(closedCircuitBreaker(), 'SFF', t0);
    s = apply(s, 'SF', t0 + 20_000);
    expect(s.state).toBe('closed');
    expect(windowTotals(s.buckets, t0 + 20_001, options)).toEqual({ successes: 1, failures: 1 });
    expect(s.buckets.every((b) => b.startMs >= t0 + 10_000)).toBe(true);
  });

  it('keeps memory bounded by the bucket count however many calls arrive', () => {
    let s = closedCircuitBreaker();
    for (let i = 0; i < 10_000; i++) s = recordCircuitBreakerSuccess(s, t0 + i * 7, options);
    expect(s.buckets.length).toBeLessThanOrEqual(options.windowBuckets + 1);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('uses new thresholds on the next decision (hot reload)', () => {
    const s = apply(closedCircuitBreaker(), 'SSSF', t0);
    expect(recordCircuitBreakerFailure(s, t0 + 5, options).state).toBe('closed');
    expect(recordCircuitBreakerFailure(s, t0 + 5, { ...options, failureThreshold: 2, failureRatio: 0.4 }).state).toBe(
      'open',
    );
  });

  it('records the open interval when it trips', () => {
    const s = apply(closedCircuitBreaker(), 'FFFF', t0);
    expect(s).toMatchObject({
      state: 'open',
      openedAtMs: t0 + 3,
      openUntilMs: t0 + 3 + 5_000,
      consecutiveOpens: 1,
      buckets: [],
      trialInFlight: false,
    });
  });
});

describe('circuit breaker: open → half-open → closed/open', () => {
  const open = tripCircuitBreaker(closedCircuitBreaker(), t0, options);

  it('refuses calls while open, with the reopen time', () => {
    expect(acquireCircuitBreaker(open, t0 + 4_999, options)).toMatchObject({
      permitted: false,
      reason: 'open',
      retryAtMs: t0 + 5_000,
    });
  });

  it('admits exactly one trial after the open interval', () => {
    const first = acquireCircuitBreaker(open, t0 + 5_000, options);
    expect(first).toMatchObject({ permitted: true, trial: true });
    expect(first.state).toMatchObject({ state: 'half-open', trialInFlight: true, trialStartedAtMs: t0 + 5_000 });
    const second = acquireCircuitBreaker(first.state, t0 + 5_001, options);
    expect(second).toMatchObject({ permitted: false, reason: 'trial-in-flight', retryAtMs: t0 + 7_000 });
  });

  it('releases a trial that never reports back after trialTimeoutMs', () => {
    const first = acquireCircuitBreaker(open, t0 + 5_000, options).state;
    const late = acquireCircuitBreaker(first, t0 + 7_000, options);
    expect(late).toMatchObject({ permitted: true, trial: true });
    expect(late.state.trialStartedAtMs).toBe(t0 + 7_000);
  });

  it('closes on a trial success and resets the consecutive opens', () => {
    const trial = acquireCircuitBreaker(open, t0 + 5_000, options).state;
    const closed = recordCircuitBreakerSuccess(trial, t0 + 5_100, options);
    expect(closed).toEqual(closedCircuitBreaker());
    expect(acquireCircuitBreaker(closed, t0 + 5_101, options)).toMatchObject({ permitted: true, trial: false });
  });

  it('re-opens on a trial failure with a growing, capped interval', () => {
    let s = open;
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      const at = s.openUntilMs!;
      s = acquireCircuitBreaker(s, at, options).state;
      s = recordCircuitBreakerFailure(s, at, options);
      intervals.push(s.openUntilMs! - at);
    }
    expect(intervals).toEqual([10_000, 15_000, 15_000, 15_000, 15_000]);
    expect(s.consecutiveOpens).toBe(6);
  });

  it('lets the next caller take a released trial', () => {
    const trial = acquireCircuitBreaker(open, t0 + 5_000, options).state;
    const released = releaseCircuitBreakerTrial(trial);
    expect(released).toMatchObject({ state: 'half-open', trialInFlight: false });
    expect(released.trialStartedAtMs).toBeUndefined();
    expect(acquireCircuitBreaker(released, t0 + 5_001, options)).toMatchObject({ permitted: true, trial: true });
  });

  it('ignores late outcomes of calls that started before the trip', () => {
    expect(recordCircuitBreakerSuccess(open, t0 + 1, options)).toBe(open);
    expect(recordCircuitBreakerFailure(open, t0 + 1, options)).toBe(open);
  });

  it('reports when a call could next be permitted', () => {
    expect(circuitBreakerAvailableAtMs(closedCircuitBreaker(), t0, options)).toBe(t0);
    expect(circuitBreakerAvailableAtMs(open, t0, options)).toBe(t0 + 5_000);
    const trial = acquireCircuitBreaker(open, t0 + 5_000, options).state;
    expect(circuitBreakerAvailableAtMs(trial, t0 + 5_000, options)).toBe(t0 + 7_000);
  });
});

describe('openIntervalMs', () => {
  it.each<[number, number]>([
    [1, 2_000],
    [2, 4_000],
    [3, 8_000],
    [4, 16_000],
    [5, 30_000],
    [100, 30_000],
  ])('after %d opens → %d ms with the defaults', (opens, expected) => {
    expect(openIntervalMs(opens, DEFAULT_CIRCUIT_BREAKER_OPTIONS)).toBe(expected);
  });

  it('stays fixed with multiplier 1', () => {
    expect(openIntervalMs(5, { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, openIntervalMultiplier: 1 })).toBe(2_000);
  });
});
