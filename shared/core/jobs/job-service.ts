import type { JobQueue } from '../../ports/job-queue.js';
import type { JobOwner, JobRecord } from '../../ports/job-store.js';
import type { JobStore } from '../../ports/job-store.js';
import type { PayloadStore } from '../../ports/payload-store.js';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import type { Clock } from '../clock.js';
import { errorRegistry, type ErrorCode } from '../errors/error-registry.js';
import { retryAfterSeconds } from '../errors/error-envelope.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { ASYNC_OPT_IN_HEADERS } from './async-opt-in.js';
import { mayAccessJob, type JobRequester } from './job-access.js';
import { createJobId, jobPayloadKey } from './job-ids.js';
import { jobToJson } from './job-json.js';
import { encodeJobRequest, JOB_REQUEST_CONTENT_TYPE } from './job-request-codec.js';
import { JobSignals } from './job-signals.js';
import { isFinished, sourcesOf } from './job-state-machine.js';
import { defaultSetJobTimer, type SetJobTimer } from './job-timer.js';
import type { QueuedBodyBudget, QueuedBodyHold } from './queued-body-budget.js';

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
    readonly headers: Headers;
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
export interface JobServiceDeps {
  readonly jobs: JobStore;
  readonly payloads: PayloadStore;
  readonly queue: JobQueue;
  readonly clock: Clock;
  /** Shared with the worker in the same process (inline answers, cancellation aborts, runner wake-ups). */
  readonly signals?: JobSignals | undefined;
  readonly setTimer?: SetJobTimer | undefined;
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

/** Response headers never stored or replayed (hop-by-hop, or recomputed from the stored body). */
/** Polling of the job store during the sync wait (a job finished by another process). */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 1_000;

export const UNSTORED_RESPONSE_HEADERS: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'trailer',
]);

/**
 * Builds the job service.
 *
 * @example
 * const signals = new JobSignals();
 * const service = createJobService({ jobs, payloads, queue, clock: systemClock, signals }, config.async);
 * if (isAsyncRequested(request.headers)) {
 *   const call = { method, path, headers, body };
 *   return service.submitAndWait({ requestId, caller: admission.caller, routeId, model, priority, request: call });
 * }
 */
export function createJobService(
  deps: JobServiceDeps,
  options: JobServiceOptions | (() => JobServiceOptions) = {},
): JobService {
  const { jobs, payloads, queue, clock } = deps;
  const signals = deps.signals ?? new JobSignals();
  const setTimer = deps.setTimer ?? defaultSetJobTimer;
  // A getter follows configuration reloads: each submission reads the settings in force when it arrives.
  const settingsNow = typeof options === 'function' ? options : () => options;
  const initial = settingsNow();
  const basePath = initial.basePath ?? '/jobs';
  const pollAfterMs = initial.pollAfterMs ?? 5_000;
  const pollStore = initial.pollStoreWhileWaiting ?? false;

  async function persist(submission: JobSubmission, hold: QueuedBodyHold | undefined): Promise<JobRecord> {
    const now = clock.now();
    const id = createJobId();
    const owner: JobOwner = {
      userId: submission.caller.userId,
      ...(submission.caller.profileId === undefined ? {} : { profileId: submission.caller.profileId }),
      ...(submission.caller.appId === undefined ? {} : { appId: submission.caller.appId }),
      ...(submission.caller.keyId === undefined ? {} : { keyId: submission.caller.keyId }),
    };
    const headers: Record<string, string> = {};
    submission.request.headers.forEach((value, name) => {
      if (!ASYNC_OPT_IN_HEADERS.includes(name)) headers[name] = value;
    });
    const body = submission.request.body;
    if (body instanceof Uint8Array) hold?.grow(body.byteLength);
    const bodyStream = body instanceof Uint8Array ? once(body) : body === null ? null : counted(body, hold);
    await payloads.put(
      jobPayloadKey(owner, id, 'request'),
      encodeJobRequest({ v: 1, method: submission.request.method, path: submission.request.path, headers }, bodyStream),
      {
        contentType: JOB_REQUEST_CONTENT_TYPE,
        attributes: { jobId: id, requestId: submission.requestId },
      },
    );
    const settings = settingsNow();
    const runDeadlineMs = submission.runDeadlineMs ?? settings.runDeadlineMs ?? 1_800_000;
    const retentionMs = submission.retentionMs ?? settings.retentionMs ?? 86_400_000;
    return jobs.create({
      id,
      requestId: submission.requestId,
      owner,
      status: 'queued',
      createdAtMs: now,
      updatedAtMs: now,
      // Until the job finishes this is only a backstop for the sweep; finishing resets it to finish + retention.
      expiresAtMs: now + runDeadlineMs + retentionMs,
      deadlineMs: now + runDeadlineMs,
      attempts: 0,
      routeId: submission.routeId,
      ...(submission.model === undefined ? {} : { model: submission.model }),
      priority: submission.priority,
      retentionMs,
      version: 0,
    });
  }

  async function enqueue(job: JobRecord): Promise<void> {
    try {
      await queue.send({ v: 1, jobId: job.id, requestId: job.requestId, enqueuedAtMs: clock.now() });
    } catch (error) {
      const now = clock.now();
      await jobs.transition(job.id, ['queued'], {
        status: 'failed',
        updatedAtMs: now,
        finishedAtMs: now,
        expiresAtMs: now + job.retentionMs,
        lastError: { code: 'GW_ERR_INTERNAL', message: 'The job could not be queued.', atMs: now },
      });
      await payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
      throw new GatewayError('GW_ERR_INTERNAL', { message: 'The job could not be queued.', cause: error });
    }
    signals.submitted(job.id);
  }

  async function visible(jobId: string, requester: JobRequester): Promise<JobRecord> {
    const job = await jobs.get(jobId).catch((error: unknown) => {
      throw unreadable(error, jobId, requester);
    });
    if (job === undefined || !mayAccessJob(job, requester))
      throw new GatewayError('GW_ERR_JOB_NOT_FOUND', { details: { job_id: jobId } });
    return job;
  }

  async function storedResult(job: JobRecord, requestId: string): Promise<GatewayResponse> {
    switch (job.status) {
      case 'queued':
      case 'running':
        throw new GatewayError('GW_ERR_JOB_NOT_READY', {
          retryAfterMs: pollAfterMs,
          details: { job_id: job.id, status: job.status },
        });
      case 'expired':
        throw new GatewayError('GW_ERR_JOB_RESULT_EXPIRED', { details: { job_id: job.id } });
      case 'cancelled':
        throw new GatewayError('GW_ERR_JOB_RESULT_EXPIRED', {
          message: 'The job was cancelled; it has no result.',
          details: { job_id: job.id, status: 'cancelled' },
        });
      case 'failed':
        throw jobFailure(job);
      case 'succeeded':
        break;
    }
    const stored =
      job.response === undefined
        ? undefined
        : await payloads.get(jobPayloadKey(job.owner, job.id, 'response', job.attempts));
    if (job.response === undefined || stored === undefined)
      throw new GatewayError('GW_ERR_JOB_RESULT_EXPIRED', { details: { job_id: job.id } });
    const headers = new Headers();
    for (const [name, value] of Object.entries(job.response.headers))
      if (!UNSTORED_RESPONSE_HEADERS.includes(name)) headers.set(name, value);
    headers.set('content-length', String(stored.bytes));
    headers.set('x-gateway-job-id', job.id);
    headers.set('x-gateway-request-id', requestId);
    return { status: job.response.status, headers, body: stored.body };
  }

  function accepted(job: JobRecord, requestId: string): GatewayResponse {
    const json = jobToJson(job, basePath);
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    const headers = new Headers({
      'content-type': 'application/json',
      'content-length': String(bytes.byteLength),
      location: json.location,
      'retry-after': retryAfterSeconds(pollAfterMs),
      'x-gateway-job-id': job.id,
      'x-gateway-request-id': requestId,
    });
    return { status: 202, headers, body: once(bytes) };
  }

  /** Resolves the finished record, or `undefined` at the sync-wait mark or when the caller leaves. */
  function waitForFinish(
    jobId: string,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): { promise: Promise<JobRecord | undefined>; cancel(): void } {
    const waiting = signals.waitForFinish(jobId);
    let disarm: () => void = () => undefined;
    let disarmPoll: () => void = () => undefined;
    let onAbort: () => void = () => undefined;
    let stopped = false;
    const stop = new Promise<JobRecord | undefined>((resolve) => {
      disarm = setTimer(() => resolve(undefined), waitMs);
      onAbort = () => resolve(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) resolve(undefined);
      // The job may run in another process (the Functions app's Service Bus worker), which sends no
      // in-process event: poll the store too, from 250 ms backing off to 1 s, until the mark.
      const poll = (delayMs: number): void => {
        disarmPoll = setTimer(() => {
          if (stopped) return;
          void jobs.get(jobId).then(
            (current) => {
              if (stopped) return;
              if (current !== undefined && isFinished(current.status)) resolve(current);
              else poll(Math.min(delayMs * 2, MAX_POLL_MS));
            },
            () => !stopped && poll(Math.min(delayMs * 2, MAX_POLL_MS)),
          );
        }, delayMs);
      };
      if (pollStore) poll(FIRST_POLL_MS);
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

  /** Stores the request and creates the job, holding its bytes in the queued-body budget (429 past it). */
  async function admit(submission: JobSubmission): Promise<{ job: JobRecord; hold: QueuedBodyHold | undefined }> {
    const hold = deps.queuedBodies?.hold(submission.caller.userId);
    try {
      const job = await persist(submission, hold);
      hold?.bind(job.id, job.deadlineMs);
      return { job, hold };
    } catch (error) {
      hold?.release();
      throw error;
    }
  }

  return {
    async submit(submission) {
      const { job, hold } = await admit(submission);
      await enqueue(job).catch((error: unknown) => {
        hold?.release();
        throw error;
      });
      return job;
    },

    async submitAndWait(submission) {
      const waitMs = submission.syncWaitMs ?? settingsNow().syncWaitMs ?? 10_000;
      const { job, hold } = await admit(submission);
      // Subscribe before enqueueing: an in-process runner may finish the job before send() returns.
      const waiting = waitMs > 0 ? waitForFinish(job.id, waitMs, submission.signal) : undefined;
      try {
        await enqueue(job);
      } catch (error) {
        waiting?.cancel();
        hold?.release();
        throw error;
      }
      if (waiting === undefined) return accepted(job, submission.requestId);
      const finished = await waiting.promise;
      // Re-read at the mark: the job may have finished on another instance, which sent no in-process event.
      const current = finished ?? (await jobs.get(job.id)) ?? job;
      if (current.status === 'succeeded') {
        try {
          return await storedResult(current, submission.requestId);
        } catch {
          return accepted(current, submission.requestId);
        }
      }
      if (current.status === 'failed') throw jobFailure(current);
      return accepted(current, submission.requestId);
    },

    async status(jobId, requester) {
      return visible(jobId, requester);
    },

    async result(jobId, requester, requestId) {
      return storedResult(await visible(jobId, requester), requestId);
    },

    async cancel(jobId, requester) {
      const job = await visible(jobId, requester);
      const now = clock.now();
      const { applied, job: after } = await jobs.transition(job.id, sourcesOf('cancelled'), {
        status: 'cancelled',
        updatedAtMs: now,
        finishedAtMs: now,
        cancelRequestedAtMs: now,
        expiresAtMs: now + job.retentionMs,
      });
      if (applied && after !== undefined) {
        signals.abortRun(
          job.id,
          new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', { message: 'The job was cancelled.' }),
        );
        signals.finished(after);
        await payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
      }
      if (after === undefined) throw new GatewayError('GW_ERR_JOB_NOT_FOUND', { details: { job_id: jobId } });
      return after;
    },

    accepted,
  };
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

/** The error a failed job answers with: its recorded `GW_ERR_*` code and message. */
export function jobFailure(job: JobRecord): GatewayError {
  const code = job.lastError?.code;
  const known = code !== undefined && Object.hasOwn(errorRegistry, code) ? (code as ErrorCode) : 'GW_ERR_INTERNAL';
  return new GatewayError(known, {
    message: job.lastError?.message ?? 'The job failed.',
    details: { job_id: job.id, status: 'failed' },
  });
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A streamed body whose bytes are taken from `hold` as they pass (it throws 429 past the bound). */
async function* counted(body: AsyncIterable<Uint8Array>, hold: QueuedBodyHold | undefined): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    hold?.grow(chunk.byteLength);
    yield chunk;
  }
}
