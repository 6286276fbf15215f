import type { JobDeps } from './job-context.js';
import type { JobRecord } from '../../ports/job-store.js';
import { StoredRecordError } from '../../ports/stored-record-error.js';
import type { GatewayRequest, GatewayResponse } from '../http/gateway-request.js';
import type { UsageReading } from '../usage/usage-reading.js';
import { parseJobMessage } from './job-message.js';
import { runJob } from './job-run.js';
import { isFinished } from './job-state-machine.js';
import { complete, failJob, workerContext, type WorkerContext } from './job-worker-context.js';

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
export interface JobWorkerDeps extends JobDeps {
  readonly execute: JobExecutor;
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

/**
 * Builds the job worker. Per delivery it claims the job with a conditional `queued → running` (or
 * takes over a `running` job whose lease has run out, conditional on the record's version), so a
 * duplicate delivery never runs a job twice; it renews the lease while the call runs, streams the
 * response body into the payload store, and records the outcome with a transition conditional on the
 * version it holds — a worker that lost its lease (or whose job was cancelled) cannot overwrite it
 * (`job-run.ts`, `job-run-lease.ts`, `job-run-failure.ts`).
 *
 * @example
 * const worker = createJobWorker(
 *   { jobs, payloads, clock, signals, execute: (request) => engine.dispatchJob(request) },
 *   { maxDeliveries: 5, leaseMs: 60_000 },
 * );
 * const settlement = await worker.handleDelivery({ jobId, deliveryCount: 1 });
 */
export function createJobWorker(deps: JobWorkerDeps, options: JobWorkerOptions = {}): JobWorker {
  const ctx = workerContext(deps, options);
  // A job whose record cannot be read cannot be run, retried or failed: its message is dead-lettered at
  // once (kept for inspection) instead of being redelivered until the queue gives up (ADR 0039).
  const handleDelivery = async (delivery: JobDelivery, hostSignal?: AbortSignal): Promise<JobSettlement> => {
    try {
      return await deliver(ctx, delivery, hostSignal);
    } catch (error) {
      if (error instanceof StoredRecordError) return { action: 'dead-letter', reason: 'JOB_RECORD_UNREADABLE' };
      throw error;
    }
  };
  return {
    handleDelivery,
    async handleMessage(body, deliveryCount, hostSignal) {
      const message = parseJobMessage(body);
      if (message === undefined) return { action: 'dead-letter', reason: 'JOB_MESSAGE_UNREADABLE' };
      return handleDelivery({ jobId: message.jobId, deliveryCount }, hostSignal);
    },
  };
}

/** One delivery: settled unrun (unknown, finished, leased elsewhere, past its deadline), or claimed and run. */
async function deliver(
  ctx: WorkerContext,
  delivery: JobDelivery,
  hostSignal: AbortSignal | undefined,
): Promise<JobSettlement> {
  const job = await ctx.jobs.get(delivery.jobId);
  if (job === undefined) return complete('unknown job');
  if (isFinished(job.status)) return complete(`duplicate delivery: job already ${job.status}`);
  const now = ctx.clock.now();
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
    const message = "The job's run deadline passed before it could finish.";
    await failJob(ctx, job, [job.status], { code: 'GW_ERR_BACKEND_TIMEOUT', message, atMs: now }, job.version);
    return complete('run deadline passed');
  }
  const claimed = await claim(ctx, job, now);
  return 'action' in claimed ? claimed : runJob(ctx, claimed.job, delivery, hostSignal);
}

/** `queued` (or `running` with a lapsed lease) → `running` under a new lease, conditional on the version read. */
async function claim(ctx: WorkerContext, job: JobRecord, now: number): Promise<{ job: JobRecord } | JobSettlement> {
  const claimed = await ctx.jobs.transition(
    job.id,
    [job.status],
    {
      status: 'running',
      updatedAtMs: now,
      startedAtMs: now,
      runningUntilMs: now + ctx.leaseMs,
      attempts: job.attempts + 1,
    },
    { ifVersion: job.version },
  );
  if (claimed.applied && claimed.job !== undefined) return { job: claimed.job };
  const current = claimed.job;
  if (current?.status === 'queued')
    return { action: 'abandon', retryAfterMs: 0, reason: 'lost a race on a queued job' };
  return complete(`duplicate delivery: job ${current?.status ?? 'gone'}`);
}
