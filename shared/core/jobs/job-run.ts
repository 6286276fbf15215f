import { AnswerHeaders } from '../http/answer-headers.js';
import type { JobRecord } from '../../ports/job-store.js';
import { errorRegistry, type ErrorCode } from '../errors/error-registry.js';
import type { GatewayRequest, GatewayResponse } from '../http/gateway-request.js';
import type { UsageReading } from '../usage/usage-reading.js';
import { jobPayloadKey } from './job-ids.js';
import { decodeJobRequest } from './job-request-codec.js';
import { RetryableResponse, settleRunFailure } from './job-run-failure.js';
import { JobRunLease } from './job-run-lease.js';
import { UNSTORED_RESPONSE_HEADERS } from './job-answers.js';
import { complete, failJob, type WorkerContext } from './job-worker-context.js';
import type { JobDelivery, JobSettlement } from './job-worker.js';

/** The stored answer of a run: its headers as kept, its size, and where its body lies. */
interface StoredResponse {
  readonly headers: Record<string, string>;
  readonly bytes: number;
  readonly key: string;
}

/**
 * Runs a claimed job under a {@link JobRunLease}: the stored request goes through the engine, the answer's
 * body streams into the payload store, and the job is `succeeded` by a transition conditional on the version
 * the lease holds. A failure (thrown, or an answer worth retrying) is settled by {@link settleRunFailure}.
 *
 * @example
 * return runJob(ctx, claimed, delivery, hostSignal);
 */
export async function runJob(
  ctx: WorkerContext,
  job: JobRecord,
  delivery: JobDelivery,
  hostSignal: AbortSignal | undefined,
): Promise<JobSettlement> {
  const lease = new JobRunLease(ctx, job, hostSignal);
  try {
    return await runLeased(ctx, job, lease);
  } catch (error) {
    await lease.stopHeartbeat();
    return await settleRunFailure(ctx, job, lease.version, delivery, error, lease.abortCause);
  } finally {
    lease.dispose();
  }
}

async function runLeased(ctx: WorkerContext, job: JobRecord, lease: JobRunLease): Promise<JobSettlement> {
  const stored = await ctx.payloads.get(jobPayloadKey(job.owner, job.id, 'request'));
  if (stored === undefined) {
    await lease.stopHeartbeat();
    const missing = { code: 'GW_ERR_INTERNAL', message: 'The stored request of the job is missing.' } as const;
    await failJob(ctx, job, ['running'], { ...missing, atMs: ctx.clock.now() }, lease.version);
    return complete('request payload missing');
  }
  const { head, body } = await decodeJobRequest(stored.body);
  const request: GatewayRequest = {
    method: head.method,
    url: new URL(head.path, ctx.origin).href,
    headers: new AnswerHeaders(head.headers),
    body,
    signal: lease.signal,
  };
  const execution = await ctx.execute(request, job);
  const { response } = execution;
  await refuseRetryable(response);
  const kept = await storeResponse(ctx, job, response, lease.signal);
  const usage = execution.usage?.();
  await lease.stopHeartbeat();
  return recordSuccess(ctx, job, lease.version, response.status, kept, usage);
}

/** An answer carrying a retryable `x-gateway-error-code` (every backend throttled or open…) is a failed attempt. */
async function refuseRetryable(response: GatewayResponse): Promise<void> {
  const errorCode = response.headers.get('x-gateway-error-code');
  if (
    errorCode !== null &&
    Object.hasOwn(errorRegistry, errorCode) &&
    errorRegistry[errorCode as ErrorCode].retryable
  ) {
    await discard(response.body);
    throw new RetryableResponse(errorCode as ErrorCode, retryAfterHeaderMs(response.headers.get('retry-after')));
  }
}

/** Streams the answer's body into the payload store (not buffered: the store pulls it at its own pace). */
async function storeResponse(
  ctx: WorkerContext,
  job: JobRecord,
  response: GatewayResponse,
  signal: AbortSignal,
): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!UNSTORED_RESPONSE_HEADERS.includes(name)) headers[name] = value;
  });
  const contentType = response.headers.get('content-type');
  const key = jobPayloadKey(job.owner, job.id, 'response', job.attempts);
  try {
    const { bytes } = await ctx.payloads.put(
      key,
      response.body ?? empty(),
      contentType === null ? {} : { contentType },
      { signal },
    );
    return { headers, bytes, key };
  } catch (error) {
    // A store that failed before (or while) reading the body must not leave the call running: ending
    // the body releases its capacity lease and stops the backend.
    await response.body?.[Symbol.asyncIterator]().return?.();
    throw error;
  }
}

/** `succeeded`, conditional on the version held; a job that moved on meanwhile loses the stored answer. */
async function recordSuccess(
  ctx: WorkerContext,
  job: JobRecord,
  version: number,
  status: number,
  kept: StoredResponse,
  usage: UsageReading | undefined,
): Promise<JobSettlement> {
  const now = ctx.clock.now();
  const done = await ctx.jobs.transition(
    job.id,
    ['running'],
    {
      status: 'succeeded',
      updatedAtMs: now,
      finishedAtMs: now,
      expiresAtMs: now + job.retentionMs,
      response: { status, headers: kept.headers, bytes: kept.bytes },
      ...(usage === undefined ? {} : { usage }),
    },
    { ifVersion: version },
  );
  if (!done.applied || done.job === undefined) {
    await ctx.payloads.delete(kept.key).catch(() => false);
    return complete(`superseded: job ${done.job?.status ?? 'gone'}`);
  }
  ctx.signals.finished(done.job);
  await ctx.payloads.delete(jobPayloadKey(job.owner, job.id, 'request')).catch(() => false);
  return complete('succeeded');
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
