import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse } from '../../ports/backend-transport.js';
import {
  classifyFailure,
  type AttemptOutcome,
  type AttemptPhase,
  type FailureVerdict,
  type TransportErrorKind,
} from '../resilience/failure-classifier.js';
import { armAttempt, attemptErrorKind, type AttemptControl } from './attempt-control.js';
import { effectiveTimeouts } from './attempt-timeouts.js';
import type { DispatchContext } from './dispatch-context.js';
import type { DispatchInput } from './dispatcher.js';
import { readErrorAnswer, type ErrorAnswer } from './error-answer.js';
import { firstEvent, isEventStream } from './first-event.js';
import { bodyFor, type BodiesByModel } from './request-body.js';
import { upstreamPath } from './upstream-path.js';

/** How one attempt ended, for the attempt loop. */
export interface AttemptResult {
  readonly verdict: FailureVerdict;
  /** The answer for the caller (`return`), or one kept for when no other backend serves; else undefined. */
  readonly response: BackendResponse | undefined;
  readonly status: number | undefined;
  readonly errorKind: TransportErrorKind | undefined;
  readonly durationMs: number;
  readonly abort: (reason?: unknown) => void;
  readonly release: () => void;
  readonly idleTimeoutMs: number;
}

/** One attempt in progress: what its steps share. */
interface Attempt {
  readonly ctx: DispatchContext;
  readonly input: DispatchInput;
  readonly control: AttemptControl;
  readonly gatewayCredentials: boolean;
  readonly sameBackendRetries: number;
  readonly idleTimeoutMs: number;
  readonly startedMs: number;
}

/**
 * One attempt on one backend, under its deadlines and the caller's abort: send the request, read what an
 * error answer says, let the classifier decide — and, for a stream that goes to the caller, wait for its first
 * event (the stream hand-off: until then the call may still fail over). A failed attempt's answer is dropped,
 * unless it is the one to return when no other backend serves (a 404 for a deployment missing there).
 *
 * @example
 * const attempt = await runAttempt(ctx, input, backend, call.bodies, 0);
 * if (attempt.verdict.action === 'return') relay(attempt.response!);
 */
export async function runAttempt(
  ctx: DispatchContext,
  input: DispatchInput,
  backend: BackendConfig,
  bodies: BodiesByModel,
  sameBackendRetries: number,
): Promise<AttemptResult> {
  const timeouts = effectiveTimeouts(
    ctx.resilience.deadlines,
    backend.timeouts,
    input.route.timeouts,
    input.attemptTimeoutMs,
    input.deadlineMs - ctx.clock.now(),
  );
  const url = ctx.urls.get(backend.id)!;
  const target = upstreamPath(input.target, backend, url.basePath, input.model, input.forwardPath);
  const body = bodyFor(input, target.bodyModel, bodies);
  const gatewayCredentials = backend.auth.type !== 'passthrough' && backend.auth.type !== 'none';
  const control = armAttempt(input.signal, timeouts);
  const attempt: Attempt = {
    ctx,
    input,
    control,
    gatewayCredentials,
    sameBackendRetries,
    idleTimeoutMs: timeouts.idleMs,
    startedMs: ctx.clock.monotonicMs(),
  };
  let response: BackendResponse;
  try {
    const credentials =
      backend.auth.type === 'passthrough'
        ? input.callerCredentials
        : ctx.credentials.headersFor(backend, control.signal);
    // Most providers answer at once (no auth, a static key): no await, so no extra turn of the microtask queue.
    const auth = isThenable(credentials) ? await credentials : credentials;
    response = await ctx.transport.send({
      backendId: backend.id,
      origin: url.origin,
      path: target.path,
      method: input.method,
      headers: { ...input.headers, ...backend.headers, ...auth, 'x-gateway-request-id': input.requestId },
      body,
      signal: control.signal,
      firstByteTimeoutMs: timeouts.firstByteMs,
      idleTimeoutMs: timeouts.idleMs,
      connectTimeoutMs: timeouts.connectMs,
      concurrency: backend.maxConcurrency,
    });
  } catch (error) {
    return notAnswered(attempt, error);
  }
  return answered(attempt, response);
}

/** The request failed before any headers: refused, DNS, timed out, reset, or the caller left. */
function notAnswered(attempt: Attempt, error: unknown): AttemptResult {
  attempt.control.release();
  const errorKind = attemptErrorKind(error, attempt.input.signal, attempt.control.signal);
  const phase =
    errorKind === 'connect-refused' || errorKind === 'connect-timeout' || errorKind === 'dns' ? 'connect' : 'sent';
  const verdict = classify(attempt, phase, undefined, errorKind, undefined);
  return result(attempt, verdict, undefined, undefined, errorKind, elapsed(attempt));
}

/**
 * The backend answered with headers: classify them (and an error answer's body) and act on the verdict. An answer
 * below 400 is settled without an async frame (a stream still waits for its first event): the usual case.
 */
function answered(attempt: Attempt, response: BackendResponse): AttemptResult | Promise<AttemptResult> {
  if (response.status >= 400) return answeredError(attempt, response);
  const durationMs = elapsed(attempt);
  const verdict = classify(attempt, 'headers', response.status, undefined, undefined);
  if (verdict.action !== 'return') return notServed(attempt, verdict, response, response.status, false, durationMs);
  if (response.status < 300 && isEventStream(response.headers['content-type'])) {
    return handOverStream(attempt, response, verdict);
  }
  attempt.control.firstByteSeen();
  return result(attempt, verdict, response, response.status, undefined, durationMs);
}

/** An error answer: its Retry-After and the provider's error code (read without losing a byte) decide. */
async function answeredError(attempt: Attempt, response: BackendResponse): Promise<AttemptResult> {
  const durationMs = elapsed(attempt);
  const { ctx } = attempt;
  const error = await readErrorAnswer(response, ctx.clock.now(), ctx.resilience.retryAfter.maxMs);
  const served = error.response;
  const verdict = classify(attempt, 'headers', response.status, undefined, error);
  if (verdict.action !== 'return')
    return notServed(attempt, verdict, served, response.status, error.complete, durationMs);
  attempt.control.firstByteSeen();
  return result(attempt, verdict, served, response.status, undefined, durationMs);
}

/** An answer that does not go to the caller: kept for when no other backend serves (fully read), else dropped. */
async function notServed(
  attempt: Attempt,
  verdict: FailureVerdict,
  served: BackendResponse,
  status: number,
  complete: boolean,
  durationMs: number,
): Promise<AttemptResult> {
  attempt.control.release();
  // A kept answer was fully read: it holds no connection.
  const keep = verdict.action === 'failover' && verdict.answerIfLast === true && complete;
  if (!keep) await served.dump();
  return result(attempt, verdict, keep ? served : undefined, status, undefined, durationMs);
}

/**
 * A stream's first byte is its first event, not its headers: a backend that sends headers and then nothing is
 * abandoned at the first-byte deadline, and one whose stream ends or breaks before its first event has sent
 * nothing to the caller yet — either way the call fails over, as before any byte.
 */
async function handOverStream(
  attempt: Attempt,
  response: BackendResponse,
  verdict: FailureVerdict,
): Promise<AttemptResult> {
  let body: AsyncIterable<Uint8Array> | undefined;
  try {
    body = await firstEvent(response.body);
  } catch (error) {
    attempt.control.release();
    const errorKind = attemptErrorKind(error, attempt.input.signal, attempt.control.signal, response.errorKind(error));
    const failed = classify(attempt, 'headers', undefined, errorKind, undefined);
    return result(attempt, failed, undefined, response.status, errorKind, elapsed(attempt));
  }
  attempt.control.firstByteSeen();
  if (body === undefined) {
    attempt.control.release();
    const failed = classify(attempt, 'headers', undefined, 'reset', undefined);
    return result(attempt, failed, undefined, response.status, 'reset', elapsed(attempt));
  }
  return result(attempt, verdict, { ...response, body }, response.status, undefined, elapsed(attempt));
}

/** The classifier's verdict on one outcome of this attempt (built in one object: this runs once per attempt). */
function classify(
  attempt: Attempt,
  phase: AttemptPhase,
  status: number | undefined,
  errorKind: TransportErrorKind | undefined,
  error: Pick<ErrorAnswer, 'providerError' | 'retryAfterMs'> | undefined,
): FailureVerdict {
  const outcome: AttemptOutcome = {
    phase,
    status,
    errorKind,
    providerError: error?.providerError,
    retryAfterMs: error?.retryAfterMs,
    gatewayCredentials: attempt.gatewayCredentials,
    sameBackendRetries: attempt.sameBackendRetries,
  };
  return classifyFailure(outcome, attempt.ctx.classifierOptions);
}

function elapsed(attempt: Attempt): number {
  return attempt.ctx.clock.monotonicMs() - attempt.startedMs;
}

function result(
  attempt: Attempt,
  verdict: FailureVerdict,
  response: BackendResponse | undefined,
  status: number | undefined,
  errorKind: TransportErrorKind | undefined,
  durationMs: number,
): AttemptResult {
  const { abort, release } = attempt.control;
  return { verdict, response, status, errorKind, durationMs, abort, release, idleTimeoutMs: attempt.idleTimeoutMs };
}

/** A promise, native or not (a provider's promise from another realm or library is awaited too). */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}
