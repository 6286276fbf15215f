import type { JobRecord } from '../../ports/job-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { JobRequester } from './job-access.js';
import { jobPayloadKey } from './job-ids.js';
import { visibleJob, type JobServiceContext } from './job-service-context.js';
import { sourcesOf } from './job-state-machine.js';

/**
 * Cancels a job its requester may see: `cancelled` from any state that allows it; a run in this process is
 * aborted, waiters are told, the stored request deleted. A finished job is answered as it is.
 *
 * @example
 * const after = await cancelJob(ctx, jobId, { userId: caller.userId });
 */
export async function cancelJob(ctx: JobServiceContext, jobId: string, requester: JobRequester): Promise<JobRecord> {
  const job = await visibleJob(ctx, jobId, requester);
  const now = ctx.clock.now();
  const { applied, job: after } = await ctx.jobs.transition(job.id, sourcesOf('cancelled'), {
    status: 'cancelled',
    updatedAtMs: now,
    finishedAtMs: now,
    cancelRequestedAtMs: now,
    expiresAtMs: now + job.retentionMs,
  });
  if (applied && after !== undefined) {
    ctx.signals.abortRun(
      job.id,
      new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', { message: 'The job was cancelled.' }),
    );
    ctx.signals.finished(after);
    await ctx.payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
  }
  if (after === undefined) throw new GatewayError('GW_ERR_JOB_NOT_FOUND', { details: { job_id: jobId } });
  return after;
}
