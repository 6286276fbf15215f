import type { JobRecord } from '../../ports/job-store.js';
import type { JobServiceContext } from './job-service-context.js';
import { isFinished } from './job-state-machine.js';

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 1_000;

/** A wait for a job to finish: resolves the finished record, or undefined; `cancel` disarms everything. */
export interface FinishWait {
  readonly promise: Promise<JobRecord | undefined>;
  cancel(): void;
}

/**
 * Waits for a job to finish, up to `waitMs` (the sync wait) or until the caller leaves: resolves the finished
 * record from the in-process completion event — or, with `pollStore`, from the job store (a job run in
 * another process sends no event), polled from 250 ms backing off to 1 s — else undefined at the mark.
 *
 * @example
 * const waiting = waitForFinish(ctx, job.id, 10_000, submission.signal); // subscribe before enqueueing
 */
export function waitForFinish(
  ctx: JobServiceContext,
  jobId: string,
  waitMs: number,
  signal: AbortSignal | undefined,
): FinishWait {
  const waiting = ctx.signals.waitForFinish(jobId);
  let disarm: () => void = () => undefined;
  let disarmPoll: () => void = () => undefined;
  let onAbort: () => void = () => undefined;
  let stopped = false;
  const stop = new Promise<JobRecord | undefined>((resolve) => {
    disarm = ctx.setTimer(() => resolve(undefined), waitMs);
    onAbort = () => resolve(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) resolve(undefined);
    const poll = (delayMs: number): void => {
      disarmPoll = ctx.setTimer(() => {
        if (stopped) return;
        const next = (): void => poll(Math.min(delayMs * 2, MAX_POLL_MS));
        void ctx.jobs.get(jobId).then(
          (current) => {
            if (stopped) return;
            if (current !== undefined && isFinished(current.status)) resolve(current);
            else next();
          },
          () => !stopped && next(),
        );
      }, delayMs);
    };
    if (ctx.pollStore) poll(FIRST_POLL_MS);
  });
  const cancel = (): void => {
    stopped = true;
    waiting.cancel();
    disarm();
    disarmPoll();
    signal?.removeEventListener('abort', onAbort);
  };
  return { promise: Promise.race([waiting.promise, stop]).finally(cancel), cancel };
}
