import { AnswerHeaders } from '../http/answer-headers.js';
import type { JobRecord } from '../../ports/job-store.js';
import { errorRegistry, type ErrorCode } from '../errors/error-registry.js';
import { retryAfterSeconds } from '../errors/error-envelope.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { jobPayloadKey } from './job-ids.js';
import { jobToJson } from './job-json.js';
import { once } from './job-persist.js';
import type { JobServiceContext } from './job-service-context.js';

/** Response headers never stored or replayed (hop-by-hop, or recomputed from the stored body). */
export const UNSTORED_RESPONSE_HEADERS: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'trailer',
]);

/**
 * A finished job's stored response (status, headers, streamed body). Throws 409 `GW_ERR_JOB_NOT_READY`
 * (queued, running), 410 `GW_ERR_JOB_RESULT_EXPIRED` (expired, cancelled, or the payload gone), or the
 * failed job's error ({@link jobFailure}).
 *
 * @example
 * return storedResult(ctx, await visibleJob(ctx, jobId, requester), requestId);
 */
export async function storedResult(
  ctx: JobServiceContext,
  job: JobRecord,
  requestId: string,
): Promise<GatewayResponse> {
  switch (job.status) {
    case 'queued':
    case 'running':
      throw new GatewayError('GW_ERR_JOB_NOT_READY', {
        retryAfterMs: ctx.pollAfterMs,
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
      : await ctx.payloads.get(jobPayloadKey(job.owner, job.id, 'response', job.attempts));
  if (job.response === undefined || stored === undefined)
    throw new GatewayError('GW_ERR_JOB_RESULT_EXPIRED', { details: { job_id: job.id } });
  const headers = new AnswerHeaders();
  for (const [name, value] of Object.entries(job.response.headers))
    if (!UNSTORED_RESPONSE_HEADERS.includes(name)) headers.set(name, value);
  headers.set('content-length', String(stored.bytes));
  headers.set('x-gateway-job-id', job.id);
  headers.set('x-gateway-request-id', requestId);
  return { status: job.response.status, headers, body: stored.body };
}

/**
 * `202 Accepted` for a job not finished yet: the job JSON, `Location` of its status, `retry-after` to poll.
 *
 * @example
 * return accepted(ctx, job, submission.requestId);
 */
export function accepted(ctx: JobServiceContext, job: JobRecord, requestId: string): GatewayResponse {
  const json = jobToJson(job, ctx.basePath);
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const headers = new AnswerHeaders({
    'content-type': 'application/json',
    'content-length': String(bytes.byteLength),
    location: json.location,
    'retry-after': retryAfterSeconds(ctx.pollAfterMs),
    'x-gateway-job-id': job.id,
    'x-gateway-request-id': requestId,
  });
  return { status: 202, headers, body: once(bytes) };
}

/**
 * The error a failed job answers with: its recorded `GW_ERR_*` code and message.
 *
 * @example
 * if (job.status === 'failed') throw jobFailure(job);
 */
export function jobFailure(job: JobRecord): GatewayError {
  const code = job.lastError?.code;
  const known = code !== undefined && Object.hasOwn(errorRegistry, code) ? (code as ErrorCode) : 'GW_ERR_INTERNAL';
  return new GatewayError(known, {
    message: job.lastError?.message ?? 'The job failed.',
    details: { job_id: job.id, status: 'failed' },
  });
}
