import type { JobRecord } from '../../ports/job-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { accepted, jobFailure, storedResult } from './job-answers.js';
import { waitForFinish } from './job-finish-wait.js';
import { jobPayloadKey } from './job-ids.js';
import { persistJob } from './job-persist.js';
import type { JobServiceContext } from './job-service-context.js';
import type { JobSubmission } from './job-service.js';
import type { QueuedBodyHold } from './queued-body-budget.js';

/**
 * Persists the request, creates the job (`queued`) and enqueues it; the queued-body hold is released if
 * either fails.
 *
 * @example
 * const job = await submitJob(ctx, submission);
 */
export async function submitJob(ctx: JobServiceContext, submission: JobSubmission): Promise<JobRecord> {
  const { job, hold } = await admitSubmission(ctx, submission);
  await enqueue(ctx, job).catch((error: unknown) => {
    hold?.release();
    throw error;
  });
  return job;
}

/**
 * {@link submitJob}, then waits up to the sync wait: the job's real response (streamed from the payload
 * store) when it finished in time, its error when it failed, else `202` with `Location`.
 *
 * @example
 * return submitJobAndWait(ctx, submission);
 */
export async function submitJobAndWait(ctx: JobServiceContext, submission: JobSubmission): Promise<GatewayResponse> {
  const waitMs = submission.syncWaitMs ?? ctx.settingsNow().syncWaitMs ?? 10_000;
  const { job, hold } = await admitSubmission(ctx, submission);
  // Subscribe before enqueueing: an in-process runner may finish the job before send() returns.
  const waiting = waitMs > 0 ? waitForFinish(ctx, job.id, waitMs, submission.signal) : undefined;
  try {
    await enqueue(ctx, job);
  } catch (error) {
    waiting?.cancel();
    hold?.release();
    throw error;
  }
  if (waiting === undefined) return accepted(ctx, job, submission.requestId);
  const finished = await waiting.promise;
  // Re-read at the mark: the job may have finished on another instance, which sent no in-process event.
  const current = finished ?? (await ctx.jobs.get(job.id)) ?? job;
  if (current.status === 'succeeded') {
    try {
      return await storedResult(ctx, current, submission.requestId);
    } catch {
      return accepted(ctx, current, submission.requestId);
    }
  }
  if (current.status === 'failed') throw jobFailure(current);
  return accepted(ctx, current, submission.requestId);
}

/** Stores the request and creates the job, holding its bytes in the queued-body budget (429 past it). */
async function admitSubmission(
  ctx: JobServiceContext,
  submission: JobSubmission,
): Promise<{ job: JobRecord; hold: QueuedBodyHold | undefined }> {
  const hold = ctx.queuedBodies?.hold(submission.caller.userId);
  try {
    const job = await persistJob(ctx, submission, hold);
    hold?.bind(job.id, job.deadlineMs);
    return { job, hold };
  } catch (error) {
    hold?.release();
    throw error;
  }
}

/** Sends the job message; a job that could not be queued is `failed` at once (500, its request deleted). */
async function enqueue(ctx: JobServiceContext, job: JobRecord): Promise<void> {
  try {
    await ctx.queue.send({ v: 1, jobId: job.id, requestId: job.requestId, enqueuedAtMs: ctx.clock.now() });
  } catch (error) {
    const now = ctx.clock.now();
    await ctx.jobs.transition(job.id, ['queued'], {
      status: 'failed',
      updatedAtMs: now,
      finishedAtMs: now,
      expiresAtMs: now + job.retentionMs,
      lastError: { code: 'GW_ERR_INTERNAL', message: 'The job could not be queued.', atMs: now },
    });
    await ctx.payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
    throw new GatewayError('GW_ERR_INTERNAL', { message: 'The job could not be queued.', cause: error });
  }
  ctx.signals.submitted(job.id);
}
