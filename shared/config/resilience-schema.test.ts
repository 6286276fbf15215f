import { describe, expect, it } from 'vitest';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../core/resilience/circuit-breaker.js';
import { DEFAULT_HEALTH_TRACKER_OPTIONS } from '../core/resilience/health-tracker.js';
import { DEFAULT_RETRY_AFTER_MAX_MS } from '../core/resilience/retry-after.js';
import { DEFAULT_FAILURE_CLASSIFIER_OPTIONS } from '../core/resilience/failure-classifier.js';
import { DEFAULT_ATTEMPT_POLICY_OPTIONS } from '../core/resilience/attempt-policy.js';
import { resilienceSchema, type ResilienceConfig } from './resilience-schema.js';

describe('resilienceSchema', () => {
  it('parses an empty object with every default', () => {
    const config: ResilienceConfig = resilienceSchema.parse({});
    expect(config).toEqual({
      breaker: {
        failureThreshold: 5,
        minimumRequests: 10,
        failureRatio: 0.5,
        windowMs: 30_000,
        windowBuckets: 10,
        openIntervalMs: 2_000,
        openIntervalMultiplier: 2,
        maxOpenIntervalMs: 30_000,
        trialTimeoutMs: 90_000,
      },
      retry: {
        maxAttempts: 4,
        totalBudgetMs: 120_000,
        backoffBaseMs: 200,
        backoffMaxMs: 5_000,
        sameBackendRetries: 1,
        fastFailureMs: 2_000,
      },
      deadlines: {
        connectMs: 5_000,
        firstByteMs: 60_000,
        idleMs: 30_000,
        totalMs: 600_000,
        maxTotalMs: 3_600_000,
        defaultTtlMs: 300_000,
        maxTtlMs: 86_400_000,
      },
      retryAfter: { maxMs: 60_000, defaultCoolDownMs: 1_000, quotaExhaustedCoolDownMs: 60_000 },
      health: { cacheTtlMs: 1_000, latencyEwmaAlpha: 0.3, probeFailureThreshold: 3, coolingWriteSlackMs: 1_000 },
      probe: { method: 'GET', intervalMs: 15_000, timeoutMs: 3_000, expectStatus: [] },
      loadBalancing: 'weighted-random',
    });
  });

  it('keeps the schema defaults and the core defaults in step', () => {
    const config = resilienceSchema.parse({});
    const breaker: CircuitBreakerOptions = config.breaker;
    expect(breaker).toEqual(DEFAULT_CIRCUIT_BREAKER_OPTIONS);
    const { breaker: _b, ...tracker } = DEFAULT_HEALTH_TRACKER_OPTIONS;
    expect(config.health).toEqual(tracker);
    expect(config.retryAfter.maxMs).toBe(DEFAULT_RETRY_AFTER_MAX_MS);
    expect({ ...config.retryAfter, maxSameBackendRetries: config.retry.sameBackendRetries }).toMatchObject(
      DEFAULT_FAILURE_CLASSIFIER_OPTIONS,
    );
    expect({ fastFailureMs: config.retry.fastFailureMs }).toEqual(DEFAULT_ATTEMPT_POLICY_OPTIONS);
  });

  it('keeps a configuration that only lengthens the first open interval valid (the cap follows it)', () => {
    expect(resilienceSchema.parse({ breaker: { openIntervalMs: 60_000 } }).breaker.maxOpenIntervalMs).toBe(60_000);
    expect(resilienceSchema.parse({ breaker: { openIntervalMs: 5_000 } }).breaker.maxOpenIntervalMs).toBe(30_000);
    expect(resilienceSchema.safeParse({ breaker: { openIntervalMs: 5_000, maxOpenIntervalMs: 1_000 } }).success).toBe(
      false,
    );
  });

  it('fills defaults inside a partly given section', () => {
    expect(resilienceSchema.parse({ breaker: { failureThreshold: 20 } }).breaker).toMatchObject({
      failureThreshold: 20,
      minimumRequests: 10,
    });
  });

  it('reports every problem at once', () => {
    const result = resilienceSchema.safeParse({
      breaker: { failureRatio: 2, openIntervalMs: 10, maxOpenIntervalMs: 5 },
      retry: { maxAttempts: 0 },
      loadBalancing: 'latency',
      extra: true,
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['breaker.failureRatio', 'retry.maxAttempts', 'loadBalancing']));
  });

  it('rejects cross-field contradictions', () => {
    expect(resilienceSchema.safeParse({ probe: { intervalMs: 5_000, timeoutMs: 10_000 } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ deadlines: { defaultTtlMs: 10_000, maxTtlMs: 5_000 } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ retry: { backoffBaseMs: 10_000, backoffMaxMs: 5_000 } }).success).toBe(false);
  });
});
