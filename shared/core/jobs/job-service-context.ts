import type { JobQueue } from '../../ports/job-queue.js';
import type { JobRecord } from '../../ports/job-store.js';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import { GatewayError } from '../errors/gateway-error.js';
import { mayAccessJob, type JobRequester } from './job-access.js';
import type { JobServiceDeps, JobServiceOptions } from './job-service.js';
import { jobContext, type JobContext } from './job-context.js';
import type { QueuedBodyBudget } from './queued-body-budget.js';

/** What the job service's operations share: its dependencies and settings. */
export interface JobServiceContext extends JobContext {
  readonly queue: JobQueue;
  readonly queuedBodies: QueuedBodyBudget | undefined;
  /** The settings in force now: each submission reads them when it arrives (configuration reloads). */
  readonly settingsNow: () => JobServiceOptions;
  /** Where the job API is mounted (fixed at start). */
  readonly basePath: string;
  /** `retry-after` suggested to pollers of an unfinished job (fixed at start). */
  readonly pollAfterMs: number;
  /** Poll the job store during the sync wait (fixed at start). */
  readonly pollStore: boolean;
}

/**
 * The service's context: {@link jobContext}'s defaults (a private `JobSignals`, the real timers); the mount
 * path, poll interval and store polling read once from the settings at start (default `/jobs`, 5 s, off).
 *
 * @example
 * const ctx = jobServiceContext(deps, () => config.async);
 */
export function jobServiceContext(
  deps: JobServiceDeps,
  options: JobServiceOptions | (() => JobServiceOptions),
): JobServiceContext {
  const settingsNow = typeof options === 'function' ? options : () => options;
  const initial = settingsNow();
  return {
    ...jobContext(deps),
    queue: deps.queue,
    queuedBodies: deps.queuedBodies,
    settingsNow,
    basePath: initial.basePath ?? '/jobs',
    pollAfterMs: initial.pollAfterMs ?? 5_000,
    pollStore: initial.pollStoreWhileWaiting ?? false,
  };
}

/**
 * The job, when `requester` may see it (its owner, or an admin); 404 `GW_ERR_JOB_NOT_FOUND` otherwise — the
 * same answer as for a job that does not exist.
 *
 * @example
 * const job = await visibleJob(ctx, jobId, { userId: caller.userId });
 */
export async function visibleJob(ctx: JobServiceContext, jobId: string, requester: JobRequester): Promise<JobRecord> {
  const job = await ctx.jobs.get(jobId).catch((error: unknown) => {
    throw unreadable(error, jobId, requester);
  });
  if (job === undefined || !mayAccessJob(job, requester))
    throw new GatewayError('GW_ERR_JOB_NOT_FOUND', { details: { job_id: jobId } });
  return job;
}

/**
 * What a corrupt job record answers (ADR 0039): its owner (or an admin) hears 410
 * `GW_ERR_JOB_RECORD_UNREADABLE`; anyone else 404, as for a job that does not exist — a record whose owner
 * cannot be read answers 404 to callers too. Other errors pass unchanged.
 */
function unreadable(error: unknown, jobId: string, requester: JobRequester): unknown {
  if (!(error instanceof StoredRecordError)) return error;
  const owner = error.owner;
  const owns = 'adminId' in requester || (owner !== undefined && mayAccessJob({ owner }, requester));
  return new GatewayError(owns ? 'GW_ERR_JOB_RECORD_UNREADABLE' : 'GW_ERR_JOB_NOT_FOUND', {
    details: { job_id: jobId },
    cause: error,
  });
}
