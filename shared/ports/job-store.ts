import type { UsageReading } from '../core/usage/usage-reading.js';

/**
 * The async-job state machine's records. One record per job, written only through conditional
 * {@link JobStore.transition}s, so two workers (a duplicate queue delivery, a takeover after a crashed
 * worker's lease) can never both run or both finish the same job.
 *
 * Compatibility: {@link JobRecord} is stored as JSON (one Table entity per job in Azure; nested objects
 * as JSON strings). It is a wire format we own: fields may be added (readers ignore unknown fields and
 * tolerate missing optional ones); a field is never renamed or given a new meaning; a status is never
 * removed. Times are epoch milliseconds. See docs/jobs.md.
 */

/**
 * Job states.
 * - `queued`: persisted and enqueued, waiting for a worker (also after a failed attempt that will be retried).
 * - `running`: a worker holds the run lease (`runningUntilMs`).
 * - `succeeded`: the call ran and its response (any HTTP status, 4xx/5xx included) is stored.
 * - `failed`: the call could not be run at all (deliveries exhausted, deadline passed, request payload lost).
 * - `cancelled`: the owner cancelled it before it finished.
 * - `expired`: the result outlived its retention and was deleted (a tombstone answering 410).
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** Every {@link JobStatus}, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze([
  'queued',
  'running',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
]);

/**
 * Who submitted a job; only this identity (or an admin) may see, fetch or cancel it, and its standing is
 * checked again when the job starts and on every retry.
 */
export interface JobOwner {
  readonly userId: string;
  readonly profileId?: string;
  readonly appId?: string;
  /** The configured id of the API key that submitted the job (never the key), when one did. */
  readonly keyId?: string;
}

/** Why a job attempt (or the job) failed. */
export interface JobError {
  /** A `GW_ERR_*` code from the error registry (the failed job's result answers with it). */
  readonly code: string;
  readonly message: string;
  /** When it happened. */
  readonly atMs: number;
}

/** Status and headers of the stored upstream response (the body lives in the `PayloadStore`). */
export interface JobResponseMeta {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with `, ` as `Headers` does. */
  readonly headers: Readonly<Record<string, string>>;
  /** Size of the stored body. */
  readonly bytes: number;
}

/**
 * One job.
 *
 * @example
 * const job: JobRecord = {
 *   id: 'Yx3r0Vb2cT8nS1qLw7dG5A', requestId: 'req-1', owner: { userId: 'u1', profileId: 'batch' },
 *   status: 'queued', createdAtMs: 1_700_000_000_000, updatedAtMs: 1_700_000_000_000,
 *   expiresAtMs: 1_700_088_200_000, deadlineMs: 1_700_001_800_000, attempts: 0,
 *   routeId: 'chat', model: 'gpt-4o', priority: 3, version: 1,
 * };
 */
export interface JobRecord {
  /** Unguessable id (128 random bits, base64url). */
  readonly id: string;
  /** The `x-gateway-request-id` of the submitting call. */
  readonly requestId: string;
  readonly owner: JobOwner;
  readonly status: JobStatus;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** When the current (last) attempt started. */
  readonly startedAtMs?: number;
  /** When the job reached `succeeded`, `failed` or `cancelled`. */
  readonly finishedAtMs?: number;
  /**
   * When the sweep acts: for a finished job, the end of result retention (→ `expired`, payloads
   * deleted); for an `expired` tombstone, when the record itself is deleted; for an unfinished job, a
   * backstop past its run deadline.
   */
  readonly expiresAtMs: number;
  /** The run deadline: no attempt starts after it and a running attempt is aborted at it. */
  readonly deadlineMs: number;
  /** The run lease of a `running` job: after it, the worker is presumed dead and another may take over. */
  readonly runningUntilMs?: number;
  /** Attempts started (runs, including ones that crashed). */
  readonly attempts: number;
  readonly lastError?: JobError;
  readonly routeId: string;
  readonly model?: string;
  /** Priority level, 1 = most urgent. */
  readonly priority: number;
  /** How long a finished result is kept. */
  readonly retentionMs: number;
  /** The response's token usage, when metered. */
  readonly usage?: UsageReading;
  /** Set when the job `succeeded`. */
  readonly response?: JobResponseMeta;
  /** Set when the owner asked to cancel (kept on the `cancelled` record). */
  readonly cancelRequestedAtMs?: number;
  /**
   * Write counter, set by the store: 1 on creation, +1 on every applied transition. Whatever a caller
   * passes is ignored. Use it with `ifVersion` to win a race on a record whose status does not change.
   */
  readonly version: number;
}

/**
 * Fields a transition may set. A patch only sets fields (a field present with value `undefined` is
 * ignored); it cannot remove one. `updatedAtMs` is required: the store does not read a clock.
 */
export type JobPatch = { readonly updatedAtMs: number } & Partial<
  Pick<
    JobRecord,
    | 'status'
    | 'startedAtMs'
    | 'finishedAtMs'
    | 'expiresAtMs'
    | 'runningUntilMs'
    | 'attempts'
    | 'lastError'
    | 'usage'
    | 'response'
    | 'cancelRequestedAtMs'
  >
>;

/** The outcome of {@link JobStore.transition}. */
export interface JobTransitionResult {
  /** `true`: the patch was applied and `job` is the new record. */
  readonly applied: boolean;
  /**
   * The record after the call: the new one, or the current one when the condition failed; `undefined` when there is no
   * such job.
   */
  readonly job: JobRecord | undefined;
}

/**
 * Persistence of job records.
 *
 * @example
 * const created = await store.create(job);
 * const running = { status: 'running', updatedAtMs: now, attempts: 1 } as const;
 * const { applied } = await store.transition(created.id, ['queued'], running);
 */
export interface JobStore {
  /** Stores a new job with `version` 1. Rejects when a job with this id exists. */
  create(job: JobRecord): Promise<JobRecord>;
  /** The job, or `undefined`. */
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Applies `patch` atomically if the job's status is one of `from` (and, with `ifVersion`, its version
   * is that one). A lost race is not an error: it returns `applied: false` with the current record.
   * Of several concurrent transitions from the same state, exactly one is applied.
   */
  transition(
    id: string,
    from: readonly JobStatus[],
    patch: JobPatch,
    options?: { readonly ifVersion?: number },
  ): Promise<JobTransitionResult>;
  /** Up to `limit` jobs with `expiresAtMs <= nowMs`, oldest `expiresAtMs` first where the store can order. */
  listExpired(nowMs: number, limit: number): Promise<JobRecord[]>;
  /** Removes the job; `false` when it did not exist. */
  delete(id: string): Promise<boolean>;
}
