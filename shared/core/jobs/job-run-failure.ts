import type { JobRecord } from '../../ports/job-store.js';
import { errorRegistry, type ErrorCode } from '../errors/error-registry.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { AbortCause } from './job-run-lease.js';
import { complete, failJob, type WorkerContext } from './job-worker-context.js';
import type { JobDelivery, JobSettlement } from './job-worker.js';

/** A response the engine produced for a failure worth retrying; turned into a failed attempt. */
export class RetryableResponse extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly retryAfterMs: number | undefined,
  ) {
    super(errorRegistry[code].message);
  }
}

/** How a failed run is seen: its error code, whether another delivery may help, and when. */
export interface RunFailure {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
}

/**
 * Settles a run that failed (thrown, or a retryable answer), on the record this worker still holds:
 * superseded when the job moved on; back to `queued` at once on shutdown; `failed` past the run deadline or
 * for a failure no retry can help; `failed` and dead-lettered when the deliveries are used up; else back to
 * `queued` with the error, delivered again after {@link retryDelayMs}.
 *
 * @example
 * return await settleRunFailure(ctx, job, lease.version, delivery, error, lease.abortCause);
 */
export async function settleRunFailure(
  ctx: WorkerContext,
  job: JobRecord,
  version: number,
  delivery: JobDelivery,
  error: unknown,
  abortCause: AbortCause | undefined,
): Promise<JobSettlement> {
  const current = await ctx.jobs.get(job.id);
  if (current === undefined || current.status !== 'running' || current.version !== version) {
    return complete(`superseded: job ${current?.status ?? 'gone'}`);
  }
  const now = ctx.clock.now();
  if (abortCause === 'shutdown') {
    await requeue(ctx, job, version, now, undefined);
    return { action: 'abandon', retryAfterMs: 0, reason: 'worker shutting down' };
  }
  if (abortCause === 'deadline' || now >= job.deadlineMs) {
    const message = "The job's run deadline passed.";
    await failJob(ctx, job, ['running'], { code: 'GW_ERR_BACKEND_TIMEOUT', message, atMs: now }, version);
    return complete('run deadline passed');
  }
  ctx.onAttemptError?.(error, job);
  const failure = classifyRunFailure(error);
  const { code } = failure;
  const message =
    error instanceof GatewayError || error instanceof RetryableResponse ? error.message : errorRegistry[code].message;
  if (!failure.retryable) {
    await failJob(ctx, job, ['running'], { code, message, atMs: now }, version);
    return complete(`failed: ${code}`);
  }
  if (delivery.deliveryCount >= ctx.maxDeliveries) {
    const gaveUp = `Gave up after ${delivery.deliveryCount} deliveries: ${message}`;
    await failJob(ctx, job, ['running'], { code, message: gaveUp, atMs: now }, version);
    return { action: 'dead-letter', reason: `JOB_DELIVERIES_EXHAUSTED: ${code}` };
  }
  await requeue(ctx, job, version, now, { code, message, atMs: now });
  const delayMs = retryDelayMs(ctx, delivery.deliveryCount, failure.retryAfterMs, job.deadlineMs - now);
  return { action: 'abandon', retryAfterMs: delayMs, reason: `attempt failed: ${code}` };
}

/**
 * The wait before the next delivery: exponential from `retryBackoffMs` per delivery, capped at
 * `maxRetryBackoffMs`, at least the answer's Retry-After, never past the run deadline.
 *
 * @example
 * retryDelayMs({ retryBackoffMs: 2_000, maxRetryBackoffMs: 300_000 }, 3, undefined, 60_000) // 8_000
 */
export function retryDelayMs(
  options: Pick<WorkerContext, 'retryBackoffMs' | 'maxRetryBackoffMs'>,
  deliveryCount: number,
  retryAfterMs: number | undefined,
  untilDeadlineMs: number,
): number {
  const backoffMs = Math.min(options.maxRetryBackoffMs, options.retryBackoffMs * 2 ** Math.max(0, deliveryCount - 1));
  return Math.max(0, Math.min(Math.max(backoffMs, retryAfterMs ?? 0), untilDeadlineMs));
}

/**
 * A run's failure as the job records it: a retryable answer and an unknown error may be retried, a gateway
 * error as its registry entry says.
 *
 * @example
 * classifyRunFailure(new GatewayError('GW_ERR_BACKEND_THROTTLED', { retryAfterMs: 5_000 }))
 * // → { code: 'GW_ERR_BACKEND_THROTTLED', retryable: true, retryAfterMs: 5_000 }
 */
export function classifyRunFailure(error: unknown): RunFailure {
  if (error instanceof RetryableResponse) {
    return { code: error.code, retryable: true, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof GatewayError) {
    return { code: error.code, retryable: errorRegistry[error.code].retryable, retryAfterMs: error.retryAfterMs };
  }
  return { code: 'GW_ERR_INTERNAL', retryable: true, retryAfterMs: undefined };
}

/** Back to `queued`, the lease given up at once (with the attempt's error, when there is one). */
async function requeue(
  ctx: WorkerContext,
  job: JobRecord,
  version: number,
  now: number,
  lastError: { code: ErrorCode; message: string; atMs: number } | undefined,
): Promise<void> {
  await ctx.jobs.transition(
    job.id,
    ['running'],
    { status: 'queued', updatedAtMs: now, runningUntilMs: now, ...(lastError === undefined ? {} : { lastError }) },
    { ifVersion: version },
  );
}
