import { MemoryJobQueue } from '../adapters/memory/memory-job-queue.js';
import { MemoryJobStore } from '../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../adapters/memory/memory-payload-store.js';
import type { Gateway } from '../core/gateway.js';
import { createJobService, type JobService } from '../core/jobs/job-service.js';
import { JobSignals } from '../core/jobs/job-signals.js';
import { createJobWorker, type JobWorker } from '../core/jobs/job-worker.js';
import { createJobsApi, type JobsApi } from '../core/jobs/jobs-api.js';
import { QueuedBodyBudget } from '../core/jobs/queued-body-budget.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import type { Clock } from '../core/clock.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';

/** What the job service, the worker, the runner and the sweep share: the stores, the queue, the signals. */
export interface RuntimeJobDeps {
  readonly jobs: JobStore;
  readonly payloads: PayloadStore;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly signals: JobSignals;
}

/** The job service and its HTTP API, over {@link RuntimeJobDeps}. */
export interface RuntimeJobService {
  readonly deps: RuntimeJobDeps;
  readonly service: JobService;
  readonly api: JobsApi;
}

/**
 * The job service over the given stores and queue (in memory by default). Where jobs run in this process,
 * their queued request bodies are bounded per caller and in total, read per job.
 */
export function runtimeJobService(options: RuntimeOptions, { clock, config, initial }: RuntimeBase): RuntimeJobService {
  const deps: RuntimeJobDeps = {
    jobs: options.jobStore ?? new MemoryJobStore(),
    payloads: options.payloadStore ?? new MemoryPayloadStore(),
    queue: options.jobQueue ?? new MemoryJobQueue({ clock, maxDeliveries: initial.async.maxDeliveries }),
    clock,
    signals: new JobSignals(),
  };
  const inProcess = options.runJobsInProcess ?? true;
  const queuedBodies = inProcess
    ? new QueuedBodyBudget(clock, () => ({
        totalBytes: config().async.maxQueuedBodyBytes,
        perCallerBytes: config().async.maxQueuedBodyBytesPerCaller,
      }))
    : undefined;
  if (queuedBodies !== undefined) deps.signals.onFinished((job) => queuedBodies.finished(job.id));
  // A getter: the job deadlines and waits in force when a job is submitted apply to it (hot reload).
  const service = createJobService({ ...deps, queuedBodies }, () => ({
    syncWaitMs: config().async.syncWaitMs,
    runDeadlineMs: config().async.runDeadlineMs,
    retentionMs: config().async.retentionMs,
    // Jobs run in another process when this one does not run them: poll for the inline answer.
    pollStoreWhileWaiting: !inProcess,
  }));
  return { deps, service, api: createJobsApi(service) };
}

/** The job worker: runs a job's stored request through the gateway (without a second lease when jobs hold one). */
export function runtimeJobWorker(
  options: RuntimeOptions,
  { telemetry, initial }: RuntimeBase,
  deps: RuntimeJobDeps,
  gateway: Gateway,
): JobWorker {
  return createJobWorker(
    {
      ...deps,
      execute: (request, job) => gateway.execute(request, job, { capacityHeld: options.jobsHoldCapacity ?? false }),
      onAttemptError: (error, job) => telemetry.exception(error, { component: 'job-worker', jobId: job.id }),
    },
    {
      maxDeliveries: initial.async.maxDeliveries,
      leaseMs: initial.async.visibilityTimeoutMs,
      retryBackoffMs: initial.async.retryBackoffMs,
    },
  );
}
