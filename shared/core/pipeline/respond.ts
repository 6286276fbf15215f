import type { Telemetry } from '../../ports/telemetry.js';
import type { TokenEstimator } from '../../ports/token-estimator.js';
import type { Clock } from '../clock.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import type { AnswerHeaders } from '../http/answer-headers.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { downstreamHeaders } from '../http/header-policy.js';
import { includeUsageBody, injectIncludeUsage } from '../usage/include-usage.js';
import { estimatePromptTokens } from '../usage/prompt-estimate.js';
import { detectUsageApi, detectUsageFormat } from '../usage/usage-format.js';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';
import { createUsageTransform, type UsageTransform } from '../usage/usage-transform.js';
import type { Call, CallSummary } from './call-summary.js';
import type { UpstreamBody } from './dispatch.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { RoutedCall } from './route.js';
import type { RecoveringStream } from '../recovery/recovering-stream.js';
import { recoveringStreamFor, type StreamRecoveryHooks } from './recover.js';
import { relayBody, type RelayOutcome } from './stream-relay.js';

/** Dependencies of {@link respond}. */
export interface RespondDeps {
  readonly clock: Clock;
  /** Estimates tokens a backend did not report (flagged `estimated` in the record). */
  readonly estimator?: TokenEstimator | undefined;
  /** Where a meter that failed to read an answer is reported (the call is then recorded with no usage). */
  readonly telemetry?: Pick<Telemetry, 'exception'> | undefined;
}

/**
 * Exact metering of streams, the request half: asks an OpenAI-style streaming call's backend for the
 * usage chunk (`stream_options.include_usage`) when the caller did not; {@link respond} hides that chunk
 * again. Answers the body to send upstream; records `stream` and `includeUsageInjected` in the summary.
 *
 * @example
 * const upstream = askForUsage(snapshot, call, routed);
 */
export function askForUsage(s: EngineSnapshot, call: Call, routed: RoutedCall): UpstreamBody {
  const { json, body } = routed;
  call.summary.stream = json?.stream === true;
  if (json === undefined || body === null || !s.config.usage.enabled || !s.config.usage.injectIncludeUsage)
    return { body, json };
  const plan = injectIncludeUsage(detectUsageApi(call.url.pathname), json);
  if (!plan.injected) return { body, json };
  call.summary.includeUsageInjected = true;
  return { body: includeUsageBody(body, json, plan), json: plan.body as Record<string, unknown> };
}

/**
 * **respond**: the backend's answer as the caller gets it — the gateway's headers (`x-gateway-request-id`,
 * `-backend`, `-route` (a fallback route when it served), `-attempts` (every route's), `-overhead-ms` = the gateway's
 * own time to the headers, `server-timing` with the gateway, queue, backend and retry-wait parts of that time), the
 * body relayed as it streams through the usage tap (which hides an injected usage chunk), a terminal error event if a
 * stream fails after the first byte. `finish` runs exactly once when the body has ended, however it ended, with the
 * metered usage.
 *
 * @example
 * return respond(deps, snapshot, call, routed, upstream, result, (usage) => holdings.settle(status, usage));
 */
export function respond(
  deps: RespondDeps,
  s: EngineSnapshot,
  call: Call,
  routed: RoutedCall,
  upstream: UpstreamBody,
  result: DispatchResult,
  finish: (usage: UsageReading) => void,
  recovery?: StreamRecoveryHooks,
): GatewayResponse {
  const { clock } = deps;
  const { summary, requestId, startMono } = call;
  const { response } = result;
  const headers = gatewayHeaders(clock, s, call, result);
  const contentType = headers.get('content-type');
  const sse = (contentType ?? '').startsWith('text/event-stream');
  summary.stream ||= sse;
  // A body the gateway may shorten (the hidden usage chunk) cannot keep the backend's length.
  if (summary.includeUsageInjected && sse) headers.delete('content-length');
  const recovering = recoveringStreamFor(deps, s, call, routed, upstream, result, recovery);
  if (recovering !== undefined) {
    headers.delete('content-length');
    return { status: response.status, headers, body: recoverableBody(deps, call, routed, recovering, finish) };
  }
  const meter = meterFor(deps, s, call, routed, upstream, { contentType, sse });
  let bytes = 0;
  const body = relayBody({
    source: response.body,
    errorKind: (error) => response.errorKind(error),
    sse,
    shape: routed.target.shape,
    requestId,
    filter: meter,
    observe: (chunk) => {
      bytes += chunk.byteLength;
      summary.observeChunk?.(chunk);
    },
    abort: result.abort,
    callerSignal: call.request.signal,
    shutdown: call.shutdown,
    idleTimeoutMs: result.idleTimeoutMs,
    now: () => clock.monotonicMs(),
    finish: (outcome) => {
      result.release();
      const usage = readUsage(deps, call, () => meter?.finish({ estimate: response.status < 400 }));
      summary.usage = usage.source === 'none' && response.status >= 400 ? emptyUsageReading(usage.servedModel) : usage;
      summary.outcome = outcome;
      summary.cutReason = cutReason(outcome, call);
      summary.responseBytes = bytes;
      summary.totalMs = clock.monotonicMs() - startMono;
      finish(usage);
    },
  });
  return { status: response.status, headers, body };
}

/**
 * The answer's headers: the backend's (minus what the gateway strips), plus `x-gateway-request-id`, `-backend`,
 * `-route`, `-attempts`, `-overhead-ms` and `server-timing`. Records the backend, status and timings in the summary.
 */
function gatewayHeaders(clock: Clock, s: EngineSnapshot, call: Call, result: DispatchResult): AnswerHeaders {
  const { summary, requestId, startMono } = call;
  const { response, backend } = result;
  const headers = downstreamHeaders(response.headers, s.stripResponse, false);
  const elapsed = clock.monotonicMs() - startMono;
  // The gateway's own time only: not the queue, not the backends (every attempt), not the waits between attempts.
  const overheadMs = Math.max(0, elapsed - result.backendWaitMs - summary.queueWaitMs - result.retryWaitMs);
  headers.set('x-gateway-request-id', requestId);
  headers.set('x-gateway-backend', backend.id);
  // The route whose pool answered: the one the model matched, or the fallback route that served instead.
  if (summary.routeId !== undefined) headers.set('x-gateway-route', summary.routeId);
  headers.set('x-gateway-attempts', String(result.attempts.length));
  headers.set('x-gateway-overhead-ms', overheadMs.toFixed(2));
  headers.append(
    'server-timing',
    `gateway;dur=${overheadMs.toFixed(2)}, queue;dur=${summary.queueWaitMs.toFixed(2)}, ` +
      `backend;dur=${result.backendWaitMs.toFixed(2)}, retry;dur=${result.retryWaitMs.toFixed(2)}`,
  );
  summary.backend = backend;
  summary.status = response.status;
  summary.ttfbMs = elapsed;
  summary.overheadMs = overheadMs;
  return headers;
}

/** The usage meter over a non-recovering body (hiding an injected usage chunk), or none when usage is off. */
function meterFor(
  deps: RespondDeps,
  s: EngineSnapshot,
  call: Call,
  routed: RoutedCall,
  upstream: UpstreamBody,
  body: { readonly contentType: string | null; readonly sse: boolean },
): UsageTransform | undefined {
  if (!s.config.usage.enabled) return undefined;
  const promptBody = upstream.json;
  return createUsageTransform(detectUsageFormat(call.url.pathname, body.contentType), {
    stripUsageOnlyChunk: call.summary.includeUsageInjected && body.sse,
    estimator: deps.estimator,
    requestModel: routed.model,
    estimatePromptTokens: () =>
      promptBody === undefined || deps.estimator === undefined
        ? undefined
        : estimatePromptTokens(promptBody, deps.estimator, routed.model),
  });
}

/** Who cut a `cut` answer: the shutdown drain when its grace period ended, else the backend. */
function cutReason(outcome: RelayOutcome, call: Call): CallSummary['cutReason'] {
  if (outcome !== 'cut') return undefined;
  return call.shutdown?.aborted === true ? 'shutdown' : 'backend';
}

/**
 * The usage the meter read from the answer, or none when reading it failed: a meter's bug or an answer it cannot
 * read must cost the call neither its record nor the settlement of its quota and capacity, which run after it.
 */
function readUsage(deps: RespondDeps, call: Call, read: () => UsageReading | undefined): UsageReading {
  try {
    return read() ?? emptyUsageReading();
  } catch (error) {
    deps.telemetry?.exception(error, { component: 'usage-meter', requestId: call.requestId });
    return emptyUsageReading();
  }
}

/** The body of a recoverable stream: the recovering stream relayed, metered by it, finished once. */
function recoverableBody(
  deps: RespondDeps,
  call: Call,
  routed: RoutedCall,
  recovering: RecoveringStream,
  finish: (usage: UsageReading) => void,
): AsyncIterable<Uint8Array> {
  const { clock } = deps;
  const { summary, requestId, startMono } = call;
  let bytes = 0;
  return relayBody({
    source: recovering.body,
    errorKind: (error) => recovering.errorKind(error),
    sse: true,
    shape: routed.target.shape,
    requestId,
    observe: (chunk) => {
      bytes += chunk.byteLength;
      summary.observeChunk?.(chunk);
    },
    abort: (reason) => recovering.abort(reason),
    callerSignal: call.request.signal,
    shutdown: call.shutdown,
    // The recovering stream keeps the idle deadline of each attempt itself.
    idleTimeoutMs: undefined,
    now: () => clock.monotonicMs(),
    finish: (outcome) => {
      recovering.release();
      const usage = readUsage(deps, call, () => recovering.usage());
      summary.usage = usage;
      summary.outcome = outcome;
      summary.cutReason = cutReason(outcome, call);
      summary.responseBytes = bytes;
      summary.totalMs = clock.monotonicMs() - startMono;
      finish(usage);
    },
  });
}
