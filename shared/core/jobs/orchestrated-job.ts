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

/** How a durable request waits for capacity (it waits for an event; the backstop is only a safety net). */
export interface CapacityWaitOptions {
  /**
   * Longest wait between two asks of the ledger: the ledger tells the request by an event when it offers
   * a slot, so this only catches an event that never came and keeps the waiter's place alive. Default
   * 30 000 ms (keep it below half the ledger's `waiterStaleMs`, 90 s).
   */
  readonly backstopMs?: number;
  /** Waits per orchestration execution before it continues as new (a bound on its history). Default 20. */
  readonly waitsPerExecution?: number;
}

/** The defaults of {@link CapacityWaitOptions}. */
export const DEFAULT_CAPACITY_WAIT = { backstopMs: 30_000, waitsPerExecution: 20 } as const;

/**
 * When a waiting request asks the ledger again if no event came: one backstop later, never past the
 * deadline. `undefined` when the deadline has passed: stop waiting.
 *
 * @example
 * nextBackstopAtMs(now, now + 60_000); // now + 30 000
 */
export function nextBackstopAtMs(
  nowMs: number,
  deadlineMs: number,
  options: CapacityWaitOptions = {},
): number | undefined {
  if (nowMs >= deadlineMs) return undefined;
  return Math.min(deadlineMs, nowMs + (options.backstopMs ?? DEFAULT_CAPACITY_WAIT.backstopMs));
}

/**
 * The job-store write that records an orchestration's end, or `undefined` when the store already holds
 * the final state (the worker finished the job, or the cancel request did). Apply it as a transition from
 * the job's current status, conditional on its version.
 *
 * @example
 * const patch = finalJobPatch(job, 'deadline', now);
 * // → { status: 'failed', lastError: { code: 'GW_ERR_BACKEND_TIMEOUT', … } }
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
