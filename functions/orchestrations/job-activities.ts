import type { InvocationContext } from '@azure/functions';
import { finalJobPatch, type OrchestrationOutcome } from '../../shared/core/jobs/orchestrated-job.js';
import { functionsHost } from '../bridge/host-loader.js';

/** `enqueueJob`: sends the job's message to Service Bus (the direct queue, not the orchestrating one). */
export async function enqueueJob(
  input: { jobId: string; requestId?: string },
  context: InvocationContext,
): Promise<void> {
  const host = await functionsHost();
  await host.jobQueue.send({
    v: 1,
    jobId: input.jobId,
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
    enqueuedAtMs: Date.now(),
  });
  context.trace(`job ${input.jobId} enqueued`);
}

/**
 * `finalizeJob`: records how the orchestration ended (a deadline or a failed hand-off marks the job
 * `failed`, conditional on its version; a finished or cancelled job is left as it is) and returns the
 * job's status — what the job API answers.
 */
export async function finalizeJob(input: {
  jobId: string;
  outcome: OrchestrationOutcome;
}): Promise<{ status: string }> {
  const { jobStore } = await functionsHost();
  const job = await jobStore.get(input.jobId);
  if (job === undefined) return { status: 'unknown' };
  const patch = finalJobPatch(job, input.outcome, Date.now());
  if (patch === undefined) return { status: job.status };
  const result = await jobStore.transition(job.id, [job.status], patch, { ifVersion: job.version });
  return { status: result.job?.status ?? 'unknown' };
}
