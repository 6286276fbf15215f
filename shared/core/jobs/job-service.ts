import type { JobDeps } from './job-context.js';
import type { JobQueue } from '../../ports/job-queue.js';
import type { JobRecord } from '../../ports/job-store.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import type { JobRequester } from './job-access.js';
import { accepted, storedResult } from './job-answers.js';
import { cancelJob } from './job-cancel.js';
import { jobServiceContext, visibleJob } from './job-service-context.js';
import { submitJob, submitJobAndWait } from './job-submit.js';
import type { QueuedBodyBudget } from './queued-body-budget.js';
import type { HeaderReader } from '../http/header-map.js';

/** A call the pipeline hands over to async mode (after admission, routing and the async permission check). */
export interface JobSubmission {
  /** The submitting call's `x-gateway-request-id`. */
  readonly requestId: string;
  /** The admitted caller (`admission.caller`); becomes the job's owner. */
  readonly caller: {
    readonly userId: string;
    readonly profileId?: string | undefined;
    readonly appId?: string | undefined;
    readonly keyId?: string | undefined;
  };
  readonly routeId: string;
  readonly model?: string | undefined;
  /** Priority level, 1 = most urgent. */
  readonly priority: number;
  /** The request as it will go upstream: headers already filtered (no credentials), body unread or bytes. */
  readonly request: {
    readonly method: string;
    /** Path and query. */
    readonly path: string;
    readonly headers: HeaderReader;
    readonly body: Uint8Array | AsyncIterable<Uint8Array> | null;
  };
  /** Overrides the configured sync wait (0: answer 202 at once). */
  readonly syncWaitMs?: number | undefined;
  /** Overrides the configured run deadline. */
  readonly runDeadlineMs?: number | undefined;
  /** The caller's result retention (`admission.asyncResultRetentionMs`); default: the configured one. */
  readonly retentionMs?: number | undefined;
  /** The caller went away: stop waiting for an inline answer (the job still runs). */
  readonly signal?: AbortSignal | undefined;
}

/** Dependencies of {@link createJobService}. */
export interface JobServiceDeps extends JobDeps {
  readonly queue: JobQueue;
  /**
   * Bounds the request bytes of jobs queued in this process, per caller and in total (a submission past
   * them is a 429); released when `signals` reports the job finished. Given where jobs run in process.
   */
  readonly queuedBodies?: QueuedBodyBudget | undefined;
}

/**
 * Options of {@link createJobService} (normally the `async` config section). Given as a getter,
 * `syncWaitMs`, `runDeadlineMs` and `retentionMs` are read per submission (hot reload); the others once.
 */
export interface JobServiceOptions {
  /** Where the job API is mounted. Default `/jobs`. */
  readonly basePath?: string;
  /** Default 10 000 (the seed's `AsyncTriggerTimeout`). */
  readonly syncWaitMs?: number;
  /** Default 1 800 000 (30 min, the seed's `AsyncTimeout`). */
  readonly runDeadlineMs?: number;
  /** Default 86 400 000 (24 h, the seed's `AsyncTTLSecs`). */
  readonly retentionMs?: number;
  /** `retry-after` suggested to pollers of an unfinished job. Default 5 000. */
  readonly pollAfterMs?: number;
  /**
   * Poll the job store during the sync wait (250 ms backing off to 1 s), for hosts whose jobs run in
   * another process (the Functions app's Service Bus worker) and so send no in-process completion event.
   * Default false: the standalone host's in-process runner signals completion directly.
   */
  readonly pollStoreWhileWaiting?: boolean;
}

/** The submitter's and poller's side of async jobs. */
export interface JobService {
  /** Persists the request, creates the job (`queued`) and enqueues it. */
  submit(submission: JobSubmission): Promise<JobRecord>;
  /**
   * {@link submit}, then waits up to the sync wait: the job's real response (streamed from the payload
   * store) when it finished in time, else `202` with `Location`, `retry-after` and the job JSON.
   */
  submitAndWait(submission: JobSubmission): Promise<GatewayResponse>;
  /** The job, for its owner or an admin. Throws 404 `GW_ERR_JOB_NOT_FOUND` otherwise. */
  status(jobId: string, requester: JobRequester): Promise<JobRecord>;
  /**
   * The stored response (status, headers, streamed body). Throws 404 (unknown / not yours), 409
   * `GW_ERR_JOB_NOT_READY` (queued, running), 410 `GW_ERR_JOB_RESULT_EXPIRED` (expired or cancelled), or
   * the failed job's error.
   */
  result(jobId: string, requester: JobRequester, requestId: string): Promise<GatewayResponse>;
  /** Cancels a queued or running job (a running one is aborted); a finished job is returned unchanged. */
  cancel(jobId: string, requester: JobRequester): Promise<JobRecord>;
  /** The `202 Accepted` answer for `job`. */
  accepted(job: JobRecord, requestId: string): GatewayResponse;
}

/**
 * Builds the job service: submission (`job-submit.ts`, `job-persist.ts`, the sync wait in
 * `job-finish-wait.ts`), the stored answers (`job-answers.ts`) and cancellation (`job-cancel.ts`).
 *
 * @example
 * const signals = new JobSignals();
 * const service = createJobService({ jobs, payloads, queue, clock: systemClock, signals }, config.async);
 * if (isAsyncRequested(request.headers)) {
 *   const request = { method, path, headers, body };
 *   return service.submitAndWait({ requestId, caller, routeId, model, priority, request });
 * }
 */
export function createJobService(
  deps: JobServiceDeps,
  options: JobServiceOptions | (() => JobServiceOptions) = {},
): JobService {
  // A getter follows configuration reloads: each submission reads the settings in force when it arrives.
  const ctx = jobServiceContext(deps, options);
  return {
    submit: (submission) => submitJob(ctx, submission),
    submitAndWait: (submission) => submitJobAndWait(ctx, submission),
    status: (jobId, requester) => visibleJob(ctx, jobId, requester),
    result: async (jobId, requester, requestId) =>
      storedResult(ctx, await visibleJob(ctx, jobId, requester), requestId),
    cancel: (jobId, requester) => cancelJob(ctx, jobId, requester),
    accepted: (job, requestId) => accepted(ctx, job, requestId),
  };
}
