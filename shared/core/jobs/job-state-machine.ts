import type { JobStatus } from '../../ports/job-store.js';

/**
 * The job state machine: for each state, the states it may move to. Every `JobStore.transition` the
 * engine makes names its `from` list with {@link sourcesOf}, so the store enforces this table.
 *
 * ```
 * queued ──▶ running ──▶ succeeded ─┐
 *   │  ▲       │  │ └──▶ failed ────┤
 *   │  └───────┘  └────▶ cancelled ─┼──▶ expired ──▶ (record deleted)
 *   ├──▶ cancelled / failed ────────┘
 * ```
 * - `running → running`: the lease is renewed, or taken over after a crashed worker's lease ran out.
 * - `running → queued`: an attempt failed and will be retried.
 * - `queued|running → failed`: deadline passed, request payload lost, deliveries exhausted, or a
 *   non-retryable gateway error.
 * - `* → expired`: the retention sweep (for unfinished jobs, a backstop long after the run deadline).
 *
 * @example
 * canTransition('queued', 'running'); // true
 * sourcesOf('cancelled'); // ['queued', 'running']
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  queued: Object.freeze(['running', 'cancelled', 'failed', 'expired'] as const),
  running: Object.freeze(['running', 'queued', 'succeeded', 'failed', 'cancelled', 'expired'] as const),
  succeeded: Object.freeze(['expired'] as const),
  failed: Object.freeze(['expired'] as const),
  cancelled: Object.freeze(['expired'] as const),
  expired: Object.freeze([] as const),
});

/** Whether a job may move from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** The states a job may reach `to` from: the `from` list of a `JobStore.transition`. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(JOB_TRANSITIONS) as JobStatus[]).filter((from) => canTransition(from, to));
}

/** A finished job: it will not run again (only the sweep still changes it). */
export function isFinished(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled' || status === 'expired';
}
