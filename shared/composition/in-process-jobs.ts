import { createInProcessJobRunner, type InProcessJobRunner } from '../core/jobs/in-process-job-runner.js';
import type { JobWorker } from '../core/jobs/job-worker.js';
import type { SweepReport } from '../core/jobs/sweep-expired-jobs.js';
import type { RuntimeBase } from './runtime-base.js';
import type { RuntimeJobDeps } from './runtime-jobs.js';

/** Jobs run by this process: the runner polling the queue and the retention sweep's timer. */
export interface InProcessJobs {
  readonly runner: InProcessJobRunner;
  /** Stops the sweep's timer (the runner is stopped on its own: drain gives it a grace period). */
  stopSweep(): void;
}

/**
 * Starts running jobs in this process (the standalone host): a runner polling the queue with
 * `async.workerConcurrency`, and `sweep` every `async.sweepIntervalMs`.
 */
export function startInProcessJobs(
  { telemetry, initial }: RuntimeBase,
  deps: RuntimeJobDeps,
  worker: JobWorker,
  sweep: () => Promise<SweepReport>,
): InProcessJobs {
  const runner = createInProcessJobRunner({
    queue: deps.queue,
    worker,
    signals: deps.signals,
    concurrency: initial.async.workerConcurrency,
    visibilityTimeoutMs: initial.async.visibilityTimeoutMs,
    pollIntervalMs: initial.async.pollIntervalMs,
    onError: (error) => telemetry.exception(error, { component: 'job-runner' }),
  });
  runner.start();
  const sweeper = setInterval(
    () => void sweep().catch((error: unknown) => telemetry.exception(error, { component: 'job-sweep' })),
    initial.async.sweepIntervalMs,
  );
  sweeper.unref();
  return { runner, stopSweep: () => clearInterval(sweeper) };
}
