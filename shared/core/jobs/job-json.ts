import type { JobRecord, JobStatus } from '../../ports/job-store.js';

/**
 * The public JSON of a job (`GET /jobs/{id}`, the `202` body).
 *
 * Compatibility: a wire format we own (`object: "gateway.job"`); fields are only ever added, never
 * renamed; times are ISO 8601 UTC; absent values are `null`. See docs/jobs.md.
 */
export interface JobJson {
  readonly object: 'gateway.job';
  readonly id: string;
  readonly status: JobStatus;
  readonly request_id: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  /** When the result (or, for an `expired` job, this record) goes away. */
  readonly expires_at: string;
  readonly deadline_at: string;
  readonly attempts: number;
  readonly priority: number;
  readonly route: string;
  readonly model: string | null;
  /** The job's own URL. */
  readonly location: string;
  readonly result: { readonly status: number; readonly bytes: number; readonly location: string } | null;
  readonly usage: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
    readonly cached_input_tokens: number;
    readonly reasoning_tokens: number;
    readonly served_model: string | null;
    readonly source: string;
  } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * Renders a job record as its public JSON; `basePath` is where the job API is mounted.
 *
 * @example
 * const json = jobToJson(job, '/jobs'); // { object: 'gateway.job', id, status: 'queued', location: '/jobs/<id>', … }
 */
export function jobToJson(job: JobRecord, basePath = '/jobs'): JobJson {
  const location = `${basePath}/${job.id}`;
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    object: 'gateway.job',
    id: job.id,
    status: job.status,
    request_id: job.requestId,
    created_at: new Date(job.createdAtMs).toISOString(),
    updated_at: new Date(job.updatedAtMs).toISOString(),
    started_at: iso(job.startedAtMs),
    finished_at: iso(job.finishedAtMs),
    expires_at: new Date(job.expiresAtMs).toISOString(),
    deadline_at: new Date(job.deadlineMs).toISOString(),
    attempts: job.attempts,
    priority: job.priority,
    route: job.routeId,
    model: job.model ?? null,
    location,
    result:
      job.status === 'succeeded' && job.response !== undefined
        ? { status: job.response.status, bytes: job.response.bytes, location: `${location}/result` }
        : null,
    usage:
      job.usage === undefined
        ? null
        : {
            prompt_tokens: job.usage.promptTokens,
            completion_tokens: job.usage.completionTokens,
            total_tokens: job.usage.totalTokens,
            cached_input_tokens: job.usage.cachedInputTokens,
            reasoning_tokens: job.usage.reasoningTokens,
            served_model: job.usage.servedModel,
            source: job.usage.source,
          },
    error:
      job.status === 'failed' && job.lastError !== undefined
        ? { code: job.lastError.code, message: job.lastError.message }
        : null,
  };
}
