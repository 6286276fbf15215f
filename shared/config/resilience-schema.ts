import { z } from 'zod';

/**
 * The `resilience` section of the gateway configuration: circuit breakers, retries, deadlines,
 * Retry-After handling, the shared health cache, probe defaults and the default load-balancing mode.
 * Every field has a default, so `{}` parses. The defaults and their reasons are in `docs/resilience.md`.
 *
 * Compatibility: field names are a public contract (`docs/configuration.md`); units are in the names.
 */

const ms = () => z.number().int().nonnegative();
const positiveMs = () => z.number().int().positive();

/** Default cap of the growing open interval (raised to `openIntervalMs` when that is longer). */
const DEFAULT_MAX_OPEN_INTERVAL_MS = 30_000;

/** Circuit breaker thresholds (hot-reloadable: the next decision uses new values). */
export const circuitBreakerSchema = z
  .object({
    /** Failures in the window needed to open. */
    failureThreshold: z.number().int().positive().default(5),
    /** Calls in the window needed before the breaker may open. */
    minimumRequests: z.number().int().positive().default(10),
    /** Failure share of calls in the window needed to open. */
    failureRatio: z.number().gt(0).max(1).default(0.5),
    windowMs: positiveMs().default(30_000),
    windowBuckets: z.number().int().min(1).max(600).default(10),
    /** First open interval before the half-open trial: short, so a recovered backend gets its traffic back soon. */
    openIntervalMs: positiveMs().default(2_000),
    /** Growth of the open interval per consecutive open (1 = fixed). */
    openIntervalMultiplier: z.number().min(1).max(10).default(2),
    /** Cap of the growing interval; default 30 s, or `openIntervalMs` when that is longer. */
    maxOpenIntervalMs: positiveMs().optional(),
    /** A half-open trial silent for this long is released (≥ connect + first-byte timeouts). */
    trialTimeoutMs: positiveMs().default(90_000),
  })
  .strict()
  .refine((b) => b.maxOpenIntervalMs === undefined || b.maxOpenIntervalMs >= b.openIntervalMs, {
    message: 'maxOpenIntervalMs must be ≥ openIntervalMs',
    path: ['maxOpenIntervalMs'],
  })
  // A configuration that only lengthens the first interval (valid before the default cap came down) stays valid.
  .transform((b) => ({
    ...b,
    maxOpenIntervalMs: b.maxOpenIntervalMs ?? Math.max(DEFAULT_MAX_OPEN_INTERVAL_MS, b.openIntervalMs),
  }));

/** Attempts per call and backoff between repeated attempts. */
export const retrySchema = z
  .object({
    /** Attempts per call across all backends, first try included. */
    maxAttempts: z.number().int().min(1).max(20).default(4),
    /** No new attempt starts after this long from the call's dispatch. */
    totalBudgetMs: positiveMs().default(120_000),
    /** Full-jitter backoff before retrying the same backend or a new pass: ceiling of the first delay. */
    backoffBaseMs: ms().default(200),
    backoffMaxMs: ms().default(5_000),
    /** Retries on the same backend after a reset of a reused keep-alive socket. */
    sameBackendRetries: z.number().int().min(0).max(3).default(1),
    /**
     * A failure that took this long (request sent → failure) is slow: that backend is not tried again in the
     * call. Faster resets and 500/502/503 without Retry-After may be retried while the attempt budget lasts.
     */
    fastFailureMs: positiveMs().default(2_000),
  })
  .strict()
  .refine((r) => r.backoffMaxMs >= r.backoffBaseMs, {
    message: 'backoffMaxMs must be ≥ backoffBaseMs',
    path: ['backoffMaxMs'],
  });

/** Default deadlines (a backend's or route's `timeouts` override them field by field). */
export const deadlinesSchema = z
  .object({
    /** TCP + TLS connect. */
    connectMs: positiveMs().default(5_000),
    /** Request sent → response headers. A silent backend is abandoned here and the call fails over. */
    firstByteMs: positiveMs().default(60_000),
    /** Longest gap between two body chunks. */
    idleMs: positiveMs().default(30_000),
    /** One whole attempt, headers and body (per-attempt; `x-gateway-timeout` / `S7PTimeout` override). */
    totalMs: positiveMs().default(600_000),
    /** Longest per-attempt timeout a caller may ask for. */
    maxTotalMs: positiveMs().default(3_600_000),
    /** TTL when the caller sends none (`x-gateway-ttl` / `S7PTTL`): queue wait plus all attempts. */
    defaultTtlMs: positiveMs().default(300_000),
    /** Longest TTL a caller may ask for. */
    maxTtlMs: positiveMs().default(86_400_000),
  })
  .strict()
  .refine((d) => d.maxTtlMs >= d.defaultTtlMs, { message: 'maxTtlMs must be ≥ defaultTtlMs', path: ['maxTtlMs'] })
  .refine((d) => d.maxTotalMs >= d.totalMs, { message: 'maxTotalMs must be ≥ totalMs', path: ['maxTotalMs'] });

/** Retry-After handling. */
export const retryAfterSchema = z
  .object({
    /** Longest Retry-After honoured; longer ones are clamped. */
    maxMs: positiveMs().default(60_000),
    /** Cooling after a 429 without Retry-After. */
    defaultCoolDownMs: positiveMs().default(1_000),
    /** Cooling after a 429 `insufficient_quota`. */
    quotaExhaustedCoolDownMs: positiveMs().default(60_000),
  })
  .strict();

/** The per-instance health view and its shared store. */
export const healthSchema = z
  .object({
    /** Re-read the shared store when the local copy is older than this. */
    cacheTtlMs: positiveMs().default(1_000),
    /** Weight of the newest latency sample in the EWMA. */
    latencyEwmaAlpha: z.number().gt(0).max(1).default(0.3),
    /** Consecutive failed probes that open a closed breaker; 0 = never. */
    probeFailureThreshold: z.number().int().min(0).default(3),
    /** Write a longer cooling to the store only when it extends the written one by more than this. */
    coolingWriteSlackMs: ms().default(1_000),
  })
  .strict();

/** Defaults for backends' active health probes (probing is on only for backends with a probe `path`). */
export const probeDefaultsSchema = z
  .object({
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    intervalMs: z.number().int().min(1_000).default(15_000),
    timeoutMs: positiveMs().default(3_000),
    /** Statuses that mean healthy; empty = any 2xx. */
    expectStatus: z.array(z.number().int().min(100).max(599)).default([]),
  })
  .strict()
  .refine((p) => p.timeoutMs <= p.intervalMs, { message: 'timeoutMs must be ≤ intervalMs', path: ['timeoutMs'] });

/** The `resilience` section. */
export const resilienceSchema = z
  .object({
    breaker: circuitBreakerSchema.prefault({}),
    retry: retrySchema.prefault({}),
    deadlines: deadlinesSchema.prefault({}),
    retryAfter: retryAfterSchema.prefault({}),
    health: healthSchema.prefault({}),
    probe: probeDefaultsSchema.prefault({}),
    /** Pool default when a pool sets no `loadBalancing`. */
    loadBalancing: z.enum(['weighted-random', 'round-robin', 'lowest-latency']).default('weighted-random'),
  })
  .strict();

export type CircuitBreakerConfig = z.output<typeof circuitBreakerSchema>;
export type RetryConfig = z.output<typeof retrySchema>;
export type DeadlinesConfig = z.output<typeof deadlinesSchema>;
export type RetryAfterConfig = z.output<typeof retryAfterSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
export type ProbeDefaultsConfig = z.output<typeof probeDefaultsSchema>;
export type ResilienceConfig = z.output<typeof resilienceSchema>;
export type ResilienceConfigInput = z.input<typeof resilienceSchema>;
