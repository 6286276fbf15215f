import type { JobStore } from '../../ports/job-store.js';
import type { PayloadStore } from '../../ports/payload-store.js';
import type { Clock } from '../clock.js';
import { jobPayloadKey } from './job-ids.js';
import { sourcesOf } from './job-state-machine.js';

/** What one sweep did. */
export interface SweepReport {
  /** Jobs moved to `expired` (their payloads deleted). */
  readonly expired: number;
  /** `expired` tombstones deleted for good. */
  readonly deleted: number;
}

/**
 * The retention sweep, in two steps so a poller first learns that a result is gone (410) and only
 * later that the job is unknown (404):
 * 1. a job whose `expiresAtMs` has passed moves to `expired` (conditional on its version, so a job that
 *    just changed is looked at again next time); its request and every attempt's response are deleted; the
 *    tombstone is kept for another `retentionMs`;
 * 2. an `expired` tombstone whose `expiresAtMs` has passed is deleted.
 * An unfinished job reaches step 1 only long after its run deadline (deadline + retention): a backstop
 * for jobs whose every message was lost.
 *
 * Runs at most `maxBatches` batches of `batchSize`, so one call is bounded; call it on a timer.
 *
 * @example
 * const report = await sweepExpiredJobs({ jobs, payloads, clock }); // { expired: 3, deleted: 1 }
 */
export async function sweepExpiredJobs(
  deps: { readonly jobs: JobStore; readonly payloads: PayloadStore; readonly clock: Clock },
  options: { readonly batchSize?: number; readonly maxBatches?: number } = {},
): Promise<SweepReport> {
  const batchSize = options.batchSize ?? 100;
  const maxBatches = options.maxBatches ?? 10;
  const seen = new Set<string>();
  let expired = 0;
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const nowMs = deps.clock.now();
    const due = (await deps.jobs.listExpired(nowMs, batchSize)).filter((job) => !seen.has(job.id));
    if (due.length === 0) break;
    for (const job of due) {
      seen.add(job.id);
      if (job.status === 'expired') {
        if (await deps.jobs.delete(job.id)) deleted++;
        continue;
      }
      if (!sourcesOf('expired').includes(job.status)) continue;
      const { applied } = await deps.jobs.transition(
        job.id,
        [job.status],
        { status: 'expired', updatedAtMs: nowMs, expiresAtMs: nowMs + job.retentionMs },
        { ifVersion: job.version },
      );
      if (!applied) continue;
      expired++;
      // Every attempt may have left a response (a superseded worker's included); attempts is small and bounded.
      for (let attempt = 1; attempt <= job.attempts; attempt++)
        await deps.payloads.delete(jobPayloadKey(job.owner, job.id, 'response', attempt));
      await deps.payloads.delete(jobPayloadKey(job.owner, job.id, 'request'));
    }
    if (due.length < batchSize) break;
  }
  return { expired, deleted };
}
