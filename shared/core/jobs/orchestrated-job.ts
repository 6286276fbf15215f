import type { JobPatch, JobRecord } from '../../ports/job-store.js';

/**
 * Pure decisions of the per-request durable orchestration (Azure Functions host). The orchestrator only
 * sequences durable tasks around them; it has no I/O, no clock and no randomness of its own.
 */

/** How an orchestrated request ended, as the orchestration saw it. */
export type OrchestrationOutcome =
  /** The worker raised the completion event (the job is finished in the job store). */
  | 'finished'
  /** The job's run deadline passed first (while waiting for capacity, or while running). */
  | 'deadline'
  /** The owner cancelled the job (DELETE /jobs/{id}). */
  | 'cancelled'
  /** The capacity ledger refused the request (its waiting list is full). */
  | 'rejected'
  /** Handing the call to Service Bus failed after the activity's own retries. */
  | 'enqueue-failed';

/** Poll timing while a request waits for capacity. */
export interface CapacityPollOptions {
  /** First wait between polls of the capacity ledger. Default 2 000 ms. */
  readonly firstPollMs?: number;
  /** Longest wait between polls. Default 15 000 ms. */
  readonly maxPollMs?: number;
  /** Most polls before the orchestration gives up (a bound on history size). Default 2 000. */
  readonly maxPolls?: number;
}

/**
 * When to poll the capacity ledger next: `firstPollMs · 2^poll`, capped at `maxPollMs` and at the
 * deadline. `undefined` when the deadline has passed or the poll budget is spent: stop waiting.
 *
 * @example
 * nextPollAtMs(0, now, now + 60_000); // now + 2 000
 */
export function nextPollAtMs(
  poll: number,
  nowMs: number,
  deadlineMs: number,
  options: CapacityPollOptions = {},
): number | undefined {
  const first = options.firstPollMs ?? 2_000;
  const max = options.maxPollMs ?? 15_000;
  if (nowMs >= deadlineMs || poll >= (options.maxPolls ?? 2_000)) return undefined;
  return Math.min(deadlineMs, nowMs + Math.min(max, first * 2 ** Math.min(poll, 20)));
}

/**
 * The job-store write that records an orchestration's end, or `undefined` when the store already holds
 * the final state (the worker finished the job, or the cancel request did). Apply it as a transition from
 * the job's current status, conditional on its version.
 *
 * @example
 * const patch = finalJobPatch(job, 'deadline', now); // { status: 'failed', lastError: { code: 'GW_ERR_BACKEND_TIMEOUT', … } }
 */
export function finalJobPatch(job: JobRecord, outcome: OrchestrationOutcome, nowMs: number): JobPatch | undefined {
  if (job.status !== 'queued' && job.status !== 'running') return undefined;
  if (outcome === 'finished' || outcome === 'cancelled') return undefined;
  const error =
    outcome === 'deadline'
      ? { code: 'GW_ERR_BACKEND_TIMEOUT', message: "The job's run deadline passed before it could finish." }
      : outcome === 'rejected'
        ? { code: 'GW_ERR_QUEUE_FULL', message: 'The pool’s durable queue is full.' }
        : { code: 'GW_ERR_INTERNAL', message: 'The job could not be handed to a worker.' };
  return {
    status: 'failed',
    updatedAtMs: nowMs,
    finishedAtMs: nowMs,
    expiresAtMs: nowMs + job.retentionMs,
    lastError: { ...error, atMs: nowMs },
  };
}

/**
 * Whether a request goes through the durable orchestration when the operator sends every non-streaming
 * request there (`GATEWAY_FUNCTIONS__DURABLE_ALL_REQUESTS`). Streaming requests never do: they hold a
 * capacity grant and stream from the HTTP trigger. `bodyText` is the request body as read (bounded) by
 * the host, or `undefined` when it was too large to look at (then the request stays on the direct path).
 *
 * @example
 * shouldOrchestrate({ method: 'POST', accept: null, bodyText: '{"model":"gpt-4o","stream":false}' }); // true
 */
export function shouldOrchestrate(request: {
  readonly method: string;
  readonly accept: string | null;
  readonly bodyText: string | undefined;
}): boolean {
  if (request.method !== 'POST' || request.bodyText === undefined) return false;
  if (request.accept !== null && request.accept.toLowerCase().includes('text/event-stream')) return false;
  try {
    const body = JSON.parse(request.bodyText) as unknown;
    return typeof body === 'object' && body !== null && (body as Record<string, unknown>)['stream'] !== true;
  } catch {
    return true;
  }
}
