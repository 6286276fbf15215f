import type { JobError, JobRecord, JobStatus } from '../../ports/job-store.js';
import { jobContext, type JobContext } from './job-context.js';
import { jobPayloadKey } from './job-ids.js';
import type { JobExecutor, JobSettlement, JobWorkerDeps, JobWorkerOptions } from './job-worker.js';

/** What every step of a job worker shares: its dependencies and its options, defaults applied. */
export interface WorkerContext extends JobContext {
  readonly execute: JobExecutor;
  readonly onAttemptError: ((error: unknown, job: JobRecord) => void) | undefined;
  readonly maxDeliveries: number;
  readonly leaseMs: number;
  readonly retryBackoffMs: number;
  readonly maxRetryBackoffMs: number;
  readonly origin: string;
}

/**
 * A worker's context: {@link jobContext}'s defaults (a private `JobSignals`, the real timers) and the
 * option defaults (5 deliveries, a 60 s lease, 2 s first retry doubling up to 300 s).
 *
 * @example
 * const ctx = workerContext({ jobs, payloads, clock, execute }, { leaseMs: 30_000 });
 */
export function workerContext(deps: JobWorkerDeps, options: JobWorkerOptions): WorkerContext {
  return {
    ...jobContext(deps),
    execute: deps.execute,
    onAttemptError: deps.onAttemptError,
    maxDeliveries: options.maxDeliveries ?? 5,
    leaseMs: options.leaseMs ?? 60_000,
    retryBackoffMs: options.retryBackoffMs ?? 2_000,
    maxRetryBackoffMs: options.maxRetryBackoffMs ?? 300_000,
    origin: options.origin ?? 'http://gateway.jobs',
  };
}

/**
 * A settlement that is done with the message.
 *
 * @example
 * return complete('unknown job');
 */
export function complete(reason: string): JobSettlement {
  return { action: 'complete', reason };
}

/**
 * Marks the job `failed` with `error` — from one of `from`, and only at `ifVersion` when given — then tells
 * the waiters and deletes the stored request. Undefined when the transition did not apply (the job moved on).
 *
 * @example
 * await failJob(ctx, job, ['running'], { code: 'GW_ERR_BACKEND_TIMEOUT', message, atMs: now }, version);
 */
export async function failJob(
  ctx: WorkerContext,
  job: JobRecord,
  from: readonly JobStatus[],
  error: JobError,
  ifVersion: number | undefined,
): Promise<JobRecord | undefined> {
  const now = ctx.clock.now();
  const { applied, job: after } = await ctx.jobs.transition(
    job.id,
    from,
    { status: 'failed', updatedAtMs: now, finishedAtMs: now, expiresAtMs: now + job.retentionMs, lastError: error },
    ifVersion === undefined ? {} : { ifVersion },
  );
  if (applied && after !== undefined) {
    ctx.signals.finished(after);
    await ctx.payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
    return after;
  }
  return undefined;
}
