import { randomUUID } from 'node:crypto';
import type { BackendConfig } from '../../config/schema.js';
import type { Clock } from '../clock.js';
import type { AttemptRecord } from '../dispatch/dispatcher.js';
import type { Caller } from '../governance/admission.js';
import type { GatewayRequest } from '../http/gateway-request.js';
import type { RequestTarget } from '../routing/request-target.js';
import type { Lease } from '../scheduling/scheduler-types.js';
import type { UsageReading } from '../usage/usage-reading.js';
import type { RecoveryReport } from '../recovery/recovering-stream.js';
import { joinSignals } from './joined-signal.js';
import type { RelayOutcome } from './stream-relay.js';

/** What the gateway knows about a call when it ends — the raw material of the usage record. */
export interface CallSummary {
  readonly requestId: string;
  readonly startedAtMs: number;
  readonly method: string;
  readonly path: string;
  readonly target: RequestTarget | undefined;
  /** Who called (undefined when the call was refused before identification). */
  readonly caller: Caller | undefined;
  readonly priority: number | undefined;
  readonly routeId: string | undefined;
  readonly modelAsked: string | undefined;
  readonly backend: BackendConfig | undefined;
  /** May be the dispatcher's own array (no copy per call): outside the dispatch stage, replace it, never change
   * it in place. */
  readonly attempts: readonly AttemptRecord[];
  readonly lease: Lease | undefined;
  readonly status: number;
  readonly outcome: RelayOutcome | 'rejected' | 'failed';
  readonly errorCode: string | undefined;
  readonly queueWaitMs: number;
  readonly ttfbMs: number | undefined;
  readonly totalMs: number;
  readonly overheadMs: number | undefined;
  readonly responseBytes: number;
  /** True for streaming requests (`stream: true` or an SSE response). */
  readonly stream: boolean;
  /** Tokens of the answering attempt; undefined when no backend answered. */
  readonly usage: UsageReading | undefined;
  /** True when the gateway added `stream_options.include_usage` (and hid the usage chunk). */
  readonly includeUsageInjected: boolean;
  /** The async job id when the call ran as a job. */
  readonly asyncJobId: string | undefined;
  /**
   * Why a `cut` answer was cut: `backend` (its stream broke, stalled or sent an error event) or `shutdown` (the
   * gateway's shutdown grace period ended first). Undefined for any other outcome.
   */
  readonly cutReason?: 'backend' | 'shutdown' | undefined;
  /** Set when the call's stream broke and stream recovery ran (whatever its result). */
  readonly recovery?: RecoveryReport | undefined;
  /** Times the call gave its lease back to wait for a cooling backend and queued again (requeue). */
  readonly requeues?: number | undefined;
  /** Internal: sees response chunks as they pass (affinity learning). */
  readonly observeChunk?: ((chunk: Uint8Array) => void) | undefined;
}

/** The summary while the call runs: each stage writes what it learned, the record stage reads it at the end. */
export type CallSummaryDraft = { -readonly [K in keyof CallSummary]: CallSummary[K] };

/** One call in flight, as every stage sees it: the request, its parsed URL and its summary so far. */
export interface Call {
  readonly request: GatewayRequest;
  readonly url: URL;
  readonly requestId: string;
  /** Monotonic start time (the gateway's overhead and total time are measured from here). */
  readonly startMono: number;
  readonly summary: CallSummaryDraft;
  /**
   * Aborted when the shutdown drain's grace period ends while the call is in flight (a live call on an engine
   * that drains); its answer is then cut by the gateway, not by its backend.
   */
  readonly shutdown?: AbortSignal | undefined;
  /**
   * Ends the work before the answer's headers (queueing, dispatching): the caller's signal, joined by
   * {@link shutdown} when the call has one — a call still dispatching when the grace period ends is cut too.
   */
  readonly signal: AbortSignal;
  /**
   * Lets go of the caller's and the drain's signals once the call has ended (its answer's body ended, or no
   * answer): set when {@link signal} joins the two. Idempotent.
   */
  readonly ended?: (() => void) | undefined;
}

/**
 * Starts a call: a request id, the start times and an empty summary. Throws (a `TypeError`) when the
 * request's URL is not absolute.
 *
 * @example
 * const call = startCall(request, clock, drainEntry?.signal);
 * call.summary.caller = admission.caller;
 */
export function startCall(request: GatewayRequest, clock: Clock, shutdown?: AbortSignal): Call {
  const url = new URL(request.url);
  const summary: CallSummaryDraft = {
    requestId: randomUUID(),
    startedAtMs: clock.now(),
    method: request.method,
    path: url.pathname,
    target: undefined,
    caller: undefined,
    priority: undefined,
    routeId: undefined,
    modelAsked: undefined,
    backend: undefined,
    attempts: [],
    lease: undefined,
    status: 0,
    outcome: 'failed',
    errorCode: undefined,
    queueWaitMs: 0,
    ttfbMs: undefined,
    totalMs: 0,
    overheadMs: undefined,
    responseBytes: 0,
    stream: false,
    usage: undefined,
    includeUsageInjected: false,
    asyncJobId: undefined,
  };
  const startMono = clock.monotonicMs();
  const { requestId } = summary;
  if (shutdown === undefined) return { request, url, requestId, startMono, summary, shutdown, signal: request.signal };
  const joined = joinSignals(request.signal, shutdown);
  return { request, url, requestId, startMono, summary, shutdown, signal: joined.signal, ended: joined.detach };
}
