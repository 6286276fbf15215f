import { z } from 'zod';

/**
 * The `async` section of the gateway configuration: async jobs (a caller opts in with
 * `x-gateway-async: true`, or the seed's `S7PAsyncMode: true`; see `docs/jobs.md`). Every field has a
 * default, so `{}` parses. Per-caller permission and result retention come from the caller's profile
 * (`profiles[].async`); `retentionMs` here caps every profile's `resultRetentionMs`.
 *
 * Compatibility: field names are a public contract (`docs/configuration.md`); units are in the names.
 *
 * @example
 * const asyncConfig: AsyncJobsConfig = asyncJobsSchema.parse({ syncWaitMs: 5_000 });
 */
export const asyncJobsSchema = z
  .object({
    /** Global switch: when off, an async opt-in is refused with 403 `GW_ERR_POLICY_ASYNC_NOT_ALLOWED`. */
    enabled: z.boolean().default(true),
    /** How long a submitter waits for the job before answering 202 (the seed's `AsyncTriggerTimeout`). */
    syncWaitMs: z.number().int().nonnegative().max(220_000).default(10_000),
    /** A job's run deadline from submission (the seed's `AsyncTimeout`, 30 min). */
    runDeadlineMs: z.number().int().positive().default(1_800_000),
    /** How long a finished result is kept (the seed's `AsyncTTLSecs`, 24 h). */
    retentionMs: z.number().int().positive().default(86_400_000),
    /** Deliveries of a job's message before the job is failed and the message dead-lettered. */
    maxDeliveries: z.number().int().min(1).max(100).default(5),
    /** Jobs one in-process runner executes at once. */
    workerConcurrency: z.number().int().min(1).max(1_000).default(4),
    /** Queue lock (and job run lease) length; renewed at half of it while a job runs. */
    visibilityTimeoutMs: z.number().int().min(1_000).default(60_000),
    /** The in-process runner's longest wait between empty `receive` polls (it backs off up to this). */
    pollIntervalMs: z.number().int().min(10).default(1_000),
    /** Base of the exponential backoff before a failed attempt is retried. */
    retryBackoffMs: z.number().int().nonnegative().default(2_000),
    /** How often the retention sweep runs in the standalone host. */
    sweepIntervalMs: z.number().int().min(1_000).default(300_000),
    /** Request bytes of all jobs queued or running in this process (in-process runner); past it → 429. */
    maxQueuedBodyBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
    /** Request bytes of one caller's jobs queued or running in this process; past it → 429. */
    maxQueuedBodyBytesPerCaller: z
      .number()
      .int()
      .positive()
      .default(128 * 1024 * 1024),
  })
  .strict()
  .refine((c) => c.maxQueuedBodyBytesPerCaller <= c.maxQueuedBodyBytes, {
    message: 'maxQueuedBodyBytesPerCaller must be <= maxQueuedBodyBytes',
    path: ['maxQueuedBodyBytesPerCaller'],
  })
  .refine((c) => c.syncWaitMs < c.runDeadlineMs, {
    message: 'syncWaitMs must be < runDeadlineMs',
    path: ['syncWaitMs'],
  });

/** The validated `async` section. */
export type AsyncJobsConfig = z.infer<typeof asyncJobsSchema>;
