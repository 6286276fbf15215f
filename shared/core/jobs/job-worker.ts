import type { JobError, JobRecord, JobStatus, JobStore } from '../../ports/job-store.js';
import type { PayloadStore } from '../../ports/payload-store.js';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import type { Clock } from '../clock.js';
import { errorRegistry, type ErrorCode } from '../errors/error-registry.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayRequest, GatewayResponse } from '../http/gateway-request.js';
import type { UsageReading } from '../usage/usage-reading.js';
import { jobPayloadKey } from './job-ids.js';
import { parseJobMessage } from './job-message.js';
import { decodeJobRequest } from './job-request-codec.js';
import { UNSTORED_RESPONSE_HEADERS } from './job-service.js';
import { JobSignals } from './job-signals.js';
import { isFinished } from './job-state-machine.js';
import { defaultSetJobTimer, type SetJobTimer } from './job-timer.js';

/** What the engine's dispatch path answers for a job's request. */
export interface JobExecution {
  readonly response: GatewayResponse;
  /** The metered usage, read after the body has been drained (the usage tap fills it as bytes pass). */
  readonly usage?: () => UsageReading | undefined;
}

/**
 * Runs a job's stored request through the engine (routing, scheduling, dispatch, usage tap). Must honour
 * `request.signal` (cancellation, run deadline, lost lease, shutdown). A returned response of any status is
 * the job's result; a response carrying a *retryable* `x-gateway-error-code` (every backend throttled or
 * open …) and a thrown error are failed attempts.
 */
export type JobExecutor = (request: GatewayRequest, job: JobRecord) => Promise<JobExecution>;

/** One delivery of a job's queue message. */
export interface JobDelivery {
  readonly jobId: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
}

/**
 * How the host settles the delivered message.
 * - `complete`: done with it (job finished, duplicate, unknown job, or run elsewhere).
 * - `abandon`: deliver again after `retryAfterMs` (failed attempt with deliveries left; live lease elsewhere;
 *   shutdown).
 * - `dead-letter`: give up (deliveries exhausted — the job is `failed` — or an unreadable message).
 */
export type JobSettlement =
  | { readonly action: 'complete'; readonly reason: string }
  | { readonly action: 'abandon'; readonly retryAfterMs: number; readonly reason: string }
  | { readonly action: 'dead-letter'; readonly reason: string };

/** Dependencies of {@link createJobWorker}. */
export interface JobWorkerDeps {
  readonly jobs: JobStore;
  readonly payloads: PayloadStore;
  readonly execute: JobExecutor;
  readonly clock: Clock;
  /** Shared with the job service in this process (cancellation aborts, completion events). */
  readonly signals?: JobSignals | undefined;
  readonly setTimer?: SetJobTimer | undefined;
  /** Told about every failed attempt (telemetry); the recorded `lastError` never carries internals. */
  readonly onAttemptError?: ((error: unknown, job: JobRecord) => void) | undefined;
}

/** Options of {@link createJobWorker}. */
export interface JobWorkerOptions {
  /** Deliveries after which a failing job is `failed` and its message dead-lettered. Default 5. */
  readonly maxDeliveries?: number;
  /** Run lease; renewed every half lease while running. Match the queue's visibility timeout. Default 60 000. */
  readonly leaseMs?: number;
  /** First retry delay, doubled per delivery. Default 2 000. */
  readonly retryBackoffMs?: number;
  /** Longest retry delay. Default 300 000. */
  readonly maxRetryBackoffMs?: number;
  /** Origin of the rebuilt request URL (the engine routes by path). Default `http://gateway.jobs`. */
  readonly origin?: string;
}

/** Runs delivered jobs. Works push-style (a Service Bus trigger) and under the in-process runner. */
export interface JobWorker {
  /** Runs (or settles without running) one delivery; never throws for job-level failures. */
  handleDelivery(delivery: JobDelivery, hostSignal?: AbortSignal): Promise<JobSettlement>;
  /** {@link handleDelivery} from a raw queue message body; an unreadable body is dead-lettered. */
  handleMessage(body: unknown, deliveryCount: number, hostSignal?: AbortSignal): Promise<JobSettlement>;
}

type AbortCause = 'deadline' | 'shutdown' | 'lease-lost';

/** A response the engine produced for a failure worth retrying; turned into a failed attempt. */
class RetryableResponse extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly retryAfterMs: number | undefined,
  ) {
    super(errorRegistry[code].message);
  }
}

/**
 * Builds the job worker. Per delivery it claims the job with a conditional `queued → running` (or
 * takes over a `running` job whose lease has run out, conditional on the record's version), so a
 * duplicate delivery never runs a job twice; it renews the lease while the call runs, streams the
 * response body into the payload store, and records the outcome with a transition conditional on the
 * version it holds — a worker that lost its lease (or whose job was cancelled) cannot overwrite it.
 *
 * @example
 * const worker = createJobWorker(
 *   { jobs, payloads, clock, signals, execute: (request) => engine.dispatchJob(request) },
 *   { maxDeliveries: 5, leaseMs: 60_000 },
 * );
 * const settlement = await worker.handleDelivery({ jobId, deliveryCount: 1 });
 */
export function createJobWorker(deps: JobWorkerDeps, options: JobWorkerOptions = {}): JobWorker {
  const { jobs, payloads, clock, execute } = deps;
  const signals = deps.signals ?? new JobSignals();
  const setTimer = deps.setTimer ?? defaultSetJobTimer;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const leaseMs = options.leaseMs ?? 60_000;
  const retryBackoffMs = options.retryBackoffMs ?? 2_000;
  const maxRetryBackoffMs = options.maxRetryBackoffMs ?? 300_000;
  const origin = options.origin ?? 'http://gateway.jobs';

  const complete = (reason: string): JobSettlement => ({ action: 'complete', reason });

  async function finish(
    job: JobRecord,
    from: readonly JobStatus[],
    error: JobError,
    ifVersion: number | undefined,
  ): Promise<JobRecord | undefined> {
    const now = clock.now();
    const { applied, job: after } = await jobs.transition(
      job.id,
      from,
      { status: 'failed', updatedAtMs: now, finishedAtMs: now, expiresAtMs: now + job.retentionMs, lastError: error },
      ifVersion === undefined ? {} : { ifVersion },
    );
    if (applied && after !== undefined) {
      signals.finished(after);
      await payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
      return after;
    }
    return undefined;
  }

  /**
   * A job whose record cannot be read cannot be run, retried or failed: its message is dead-lettered at
   * once (kept for inspection) instead of being redelivered until the queue gives up (ADR 0039).
   */
  async function handleDelivery(delivery: JobDelivery, hostSignal?: AbortSignal): Promise<JobSettlement> {
    try {
      return await deliver(delivery, hostSignal);
    } catch (error) {
      if (error instanceof StoredRecordError) return { action: 'dead-letter', reason: 'JOB_RECORD_UNREADABLE' };
      throw error;
    }
  }

  async function deliver(delivery: JobDelivery, hostSignal?: AbortSignal): Promise<JobSettlement> {
    const job = await jobs.get(delivery.jobId);
    if (job === undefined) return complete('unknown job');
    if (isFinished(job.status)) return complete(`duplicate delivery: job already ${job.status}`);
    const now = clock.now();
    if (job.status === 'running' && (job.runningUntilMs ?? 0) > now) {
      // Another worker holds a live lease. Do not run; look again when the lease would run out, so a
      // worker that dies now still has its job picked up (completing here could lose the only message).
      return {
        action: 'abandon',
        retryAfterMs: (job.runningUntilMs ?? now) - now,
        reason: 'running elsewhere under a live lease',
      };
    }
    if (now >= job.deadlineMs) {
      await finish(
        job,
        [job.status],
        { code: 'GW_ERR_BACKEND_TIMEOUT', message: "The job's run deadline passed before it could finish.", atMs: now },
        job.version,
      );
      return complete('run deadline passed');
    }
    const claim = await jobs.transition(
      job.id,
      [job.status],
      {
        status: 'running',
        updatedAtMs: now,
        startedAtMs: now,
        runningUntilMs: now + leaseMs,
        attempts: job.attempts + 1,
      },
      { ifVersion: job.version },
    );
    if (!claim.applied || claim.job === undefined) {
      const current = claim.job;
      if (current?.status === 'queued')
        return { action: 'abandon', retryAfterMs: 0, reason: 'lost a race on a queued job' };
      return complete(`duplicate delivery: job ${current?.status ?? 'gone'}`);
    }
    return run(claim.job, delivery, hostSignal);
  }

  async function run(
    job: JobRecord,
    delivery: JobDelivery,
    hostSignal: AbortSignal | undefined,
  ): Promise<JobSettlement> {
    const controller = new AbortController();
    let version = job.version;
    let abortCause: AbortCause | undefined;
    const abort = (cause: AbortCause, reason: unknown): void => {
      abortCause ??= cause;
      controller.abort(reason);
    };
    const unregister = signals.registerRun(job.id, controller);
    const disarmDeadline = setTimer(
      () =>
        abort('deadline', new GatewayError('GW_ERR_BACKEND_TIMEOUT', { message: "The job's run deadline passed." })),
      job.deadlineMs - clock.now(),
    );
    let disarmHeartbeat: () => void = () => undefined;
    let renewing: Promise<void> | undefined;
    let heartbeatStopped = false;
    const heartbeat = (): void => {
      if (heartbeatStopped) return;
      disarmHeartbeat = setTimer(() => {
        const now = clock.now();
        renewing = jobs
          .transition(job.id, ['running'], { updatedAtMs: now, runningUntilMs: now + leaseMs }, { ifVersion: version })
          .then(
            (renewed) => {
              if (renewed.applied && renewed.job !== undefined) {
                version = renewed.job.version;
                if (!controller.signal.aborted) heartbeat();
              } else {
                // Cancelled, taken over or swept: stop the backend call rather than race the new owner.
                abort(
                  'lease-lost',
                  new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', {
                    message: 'The job is no longer this worker’s to run.',
                  }),
                );
              }
            },
            () => heartbeat(),
          );
      }, leaseMs / 2);
    };
    // The final transition is conditional on `version`; a renewal landing in between would make it lose.
    const stopHeartbeat = async (): Promise<void> => {
      heartbeatStopped = true;
      disarmHeartbeat();
      await renewing;
    };
    heartbeat();
    const onHostAbort = (): void => abort('shutdown', new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN'));
    hostSignal?.addEventListener('abort', onHostAbort, { once: true });
    if (hostSignal?.aborted === true) onHostAbort();

    try {
      const stored = await payloads.get(jobPayloadKey(job.owner, job.id, 'request'));
      if (stored === undefined) {
        await stopHeartbeat();
        await finish(
          job,
          ['running'],
          { code: 'GW_ERR_INTERNAL', message: 'The stored request of the job is missing.', atMs: clock.now() },
          version,
        );
        return complete('request payload missing');
      }
      const { head, body } = await decodeJobRequest(stored.body);
      const request: GatewayRequest = {
        method: head.method,
        url: new URL(head.path, origin).href,
        headers: new Headers(head.headers),
        body,
        signal: controller.signal,
      };
      const execution = await execute(request, job);
      const response = execution.response;
      const errorCode = response.headers.get('x-gateway-error-code');
      if (
        errorCode !== null &&
        Object.hasOwn(errorRegistry, errorCode) &&
        errorRegistry[errorCode as ErrorCode].retryable
      ) {
        await discard(response.body);
        throw new RetryableResponse(errorCode as ErrorCode, retryAfterHeaderMs(response.headers.get('retry-after')));
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (!UNSTORED_RESPONSE_HEADERS.includes(name)) headers[name] = value;
      });
      const contentType = response.headers.get('content-type');
      // Streamed, not buffered: the payload store pulls the backend body at its own pace.
      const responseKey = jobPayloadKey(job.owner, job.id, 'response', job.attempts);
      let bytes: number;
      try {
        ({ bytes } = await payloads.put(
          responseKey,
          response.body ?? empty(),
          contentType === null ? {} : { contentType },
          { signal: controller.signal },
        ));
      } catch (error) {
        // A store that failed before (or while) reading the body must not leave the call running: ending
        // the body releases its capacity lease and stops the backend.
        await response.body?.[Symbol.asyncIterator]().return?.();
        throw error;
      }
      const usage = execution.usage?.();
      await stopHeartbeat();
      const now = clock.now();
      const done = await jobs.transition(
        job.id,
        ['running'],
        {
          status: 'succeeded',
          updatedAtMs: now,
          finishedAtMs: now,
          expiresAtMs: now + job.retentionMs,
          response: { status: response.status, headers, bytes },
          ...(usage === undefined ? {} : { usage }),
        },
        { ifVersion: version },
      );
      if (!done.applied || done.job === undefined) {
        await payloads.delete(responseKey).catch(() => false);
        return complete(`superseded: job ${done.job?.status ?? 'gone'}`);
      }
      signals.finished(done.job);
      await payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
      return complete('succeeded');
    } catch (error) {
      await stopHeartbeat();
      return await settleFailure(job, version, delivery, error, abortCause);
    } finally {
      disarmDeadline();
      heartbeatStopped = true;
      disarmHeartbeat();
      unregister();
      hostSignal?.removeEventListener('abort', onHostAbort);
    }
  }

  async function settleFailure(
    job: JobRecord,
    version: number,
    delivery: JobDelivery,
    error: unknown,
    abortCause: AbortCause | undefined,
  ): Promise<JobSettlement> {
    const current = await jobs.get(job.id);
    if (current === undefined || current.status !== 'running' || current.version !== version) {
      return complete(`superseded: job ${current?.status ?? 'gone'}`);
    }
    const now = clock.now();
    if (abortCause === 'shutdown') {
      await jobs.transition(
        job.id,
        ['running'],
        { status: 'queued', updatedAtMs: now, runningUntilMs: now },
        { ifVersion: version },
      );
      return { action: 'abandon', retryAfterMs: 0, reason: 'worker shutting down' };
    }
    if (abortCause === 'deadline' || now >= job.deadlineMs) {
      await finish(
        job,
        ['running'],
        { code: 'GW_ERR_BACKEND_TIMEOUT', message: "The job's run deadline passed.", atMs: now },
        version,
      );
      return complete('run deadline passed');
    }
    deps.onAttemptError?.(error, job);
    const { code, retryable, retryAfterMs } = classify(error);
    const message =
      error instanceof GatewayError || error instanceof RetryableResponse ? error.message : errorRegistry[code].message;
    if (!retryable) {
      await finish(job, ['running'], { code, message, atMs: now }, version);
      return complete(`failed: ${code}`);
    }
    if (delivery.deliveryCount >= maxDeliveries) {
      await finish(
        job,
        ['running'],
        { code, message: `Gave up after ${delivery.deliveryCount} deliveries: ${message}`, atMs: now },
        version,
      );
      return { action: 'dead-letter', reason: `JOB_DELIVERIES_EXHAUSTED: ${code}` };
    }
    const backoffMs = Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** Math.max(0, delivery.deliveryCount - 1));
    const delayMs = Math.max(0, Math.min(Math.max(backoffMs, retryAfterMs ?? 0), job.deadlineMs - now));
    await jobs.transition(
      job.id,
      ['running'],
      { status: 'queued', updatedAtMs: now, runningUntilMs: now, lastError: { code, message, atMs: now } },
      { ifVersion: version },
    );
    return { action: 'abandon', retryAfterMs: delayMs, reason: `attempt failed: ${code}` };
  }

  return {
    handleDelivery,
    async handleMessage(body, deliveryCount, hostSignal) {
      const message = parseJobMessage(body);
      if (message === undefined) return { action: 'dead-letter', reason: 'JOB_MESSAGE_UNREADABLE' };
      return handleDelivery({ jobId: message.jobId, deliveryCount }, hostSignal);
    },
  };
}

function classify(error: unknown): { code: ErrorCode; retryable: boolean; retryAfterMs: number | undefined } {
  if (error instanceof RetryableResponse)
    return { code: error.code, retryable: true, retryAfterMs: error.retryAfterMs };
  if (error instanceof GatewayError)
    return { code: error.code, retryable: errorRegistry[error.code].retryable, retryAfterMs: error.retryAfterMs };
  return { code: 'GW_ERR_INTERNAL', retryable: true, retryAfterMs: undefined };
}

function retryAfterHeaderMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

async function discard(body: AsyncIterable<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  await body[Symbol.asyncIterator]().return?.();
}

async function* empty(): AsyncGenerator<Uint8Array> {}
