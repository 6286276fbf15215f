import type { RouteConfig } from '../../config/schema.js';
import type { Clock } from '../clock.js';
import { attemptsForEnvelope, attemptsOf } from '../dispatch/dispatch-errors.js';
import type { AttemptRecord, DispatchInput, DispatchResult } from '../dispatch/dispatcher.js';
import { GatewayError } from '../errors/gateway-error.js';
import { CALLER_CREDENTIAL_HEADERS } from '../http/header-policy.js';
import type { Call } from './call-summary.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import { contextWindowPlan, modelFor } from './fallback-plan.js';
import { holdRefusal } from './held-refusal.js';
import type { RoutedCall } from './route.js';
import type { HeaderReader } from '../http/header-map.js';

/** The body to send upstream: the one received, or the one rewritten for metering (include_usage). */
export interface UpstreamBody {
  readonly body: Uint8Array | null;
  readonly json: Record<string, unknown> | undefined;
}

/** Options of {@link dispatchWithFallbacks}: the requeue, and what a stream recovery's attempt changes. */
export interface DispatchOptions {
  /** Gives the lease back while every backend of a pool cools, and queues again (requeue). */
  readonly requeue?: Requeue | undefined;
  /** Backends not to try (the one whose stream broke; those unable to continue a prefill). */
  readonly excludeBackendIds?: Iterable<string> | undefined;
  /** Replaces the caller's signal (the recovery's own deadline, combined with it). */
  readonly signal?: AbortSignal | undefined;
}

/** Errors that mean "this route's pool cannot serve the call": the next fallback route is tried. */
const FALLBACK_CODES: ReadonlySet<string> = new Set([
  'GW_ERR_BACKEND_EXHAUSTED',
  'GW_ERR_BACKEND_ALL_OPEN',
  'GW_ERR_BACKEND_THROTTLED',
  'GW_ERR_BACKEND_TIMEOUT',
  'GW_ERR_BACKEND_NONE_CONFIGURED',
]);

/** Gives the call's lease in `poolId` back, waits until `untilMs`, and queues for one again at its priority. */
export type Requeue = (poolId: string, untilMs: number, signal: AbortSignal) => Promise<void>;

/**
 * **dispatch**: runs the dispatcher (attempts, failover, deadlines) over the route's pool, then over its
 * fallback routes in order when a pool is exhausted or unusable (every breaker open, every backend
 * cooling). Each route's pool is scheduled on its own: `lease(poolId)` is awaited before its attempts, so
 * the call holds capacity in the pool that serves it; while every backend of a pool cools, `requeue` gives
 * that lease back and queues again at the call's priority. The caller's own errors (4xx) never move on to a
 * fallback — except a prompt too long for the model (`context_length_exceeded` and its equivalents): then
 * the route's `contextWindowFallbacks` (else its `fallbacks`) are tried, each at most once and never a
 * model that already refused the prompt; if none serves, the refusal goes back verbatim. Writes the route,
 * attempts and queue wait to the call's summary as it goes, so a failure is recorded with the attempts
 * made. The result's `backendWaitMs` and `retryWaitMs` cover every route tried: all attempts, and every
 * wait between them (a route that could not serve counts as waiting).
 *
 * @example
 * const result = await dispatchWithFallbacks(clock, snapshot, call, routed, upstream, leases.take, {
 *   requeue: leases.requeue,
 * });
 */
export async function dispatchWithFallbacks(
  clock: Clock,
  s: EngineSnapshot,
  call: Call,
  routed: RoutedCall,
  upstream: UpstreamBody,
  lease: (poolId: string) => Promise<void>,
  options: DispatchOptions = NO_OPTIONS,
): Promise<DispatchResult> {
  const run = new RouteRun(call, routed, upstream, options);
  const first = routed.match.route;
  // No fallbacks is the usual case: a queue of one, no array built for the fallbacks.
  let queue = first.fallbacks.length === 0 ? [first] : [first, ...fallbackRoutes(s, first)];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    if (run.triedRoutes.includes(current.id)) continue;
    run.triedRoutes.push(current.id);
    const model = modelFor(current, current === first, routed.model);
    const result = await dispatchOnRoute(clock, s, run, routeInput(s, run, current, model), lease);
    if (result === undefined) continue;
    if (result.refusal !== 'context-length') return finish(call, run, result, current.id);
    const next = await afterRefusal(s, call, run, current, { asked: routed.model, tried: model }, result);
    if (next === undefined) return finish(call, run, result, current.id);
    queue = next;
  }
  return endOfRoutes(call, run);
}

const NO_OPTIONS: DispatchOptions = Object.freeze({});

/**
 * One call's way through its routes: what every route's dispatcher input shares (the call, its body, its
 * caller's credentials), the routes tried so far and what they left behind.
 */
class RouteRun {
  /** Route ids tried, in order (each at most once). */
  readonly triedRoutes: string[] = [];
  /** Models (lower-cased) that refused the prompt as too long; built at the first refusal. */
  refusedModels: Set<string> | undefined;
  readonly attempts: AttemptRecord[] = [];
  /** Time on routes that could not serve, besides their attempts: their waits between attempts. */
  failedRoutesWaitMs = 0;
  lastError: unknown = undefined;
  /** The last "prompt too long" answer, kept while context-window fallbacks are tried. */
  refused: { readonly result: DispatchResult; readonly routeId: string; readonly servedAt: number } | undefined;
  /** The caller's credential headers, read once for every route (sent only to `passthrough` backends). */
  readonly callerCredentials: Record<string, string>;

  constructor(
    readonly call: Call,
    readonly routed: RoutedCall,
    readonly upstream: UpstreamBody,
    readonly options: DispatchOptions,
  ) {
    this.callerCredentials = credentialHeaders(call.request.headers);
  }
}

/**
 * One route: a lease in its pool, then the dispatcher over it. Undefined when its pool could not serve
 * (exhausted, all open, throttled…): the attempts are kept and the next route is tried; any other error ends
 * the call.
 */
async function dispatchOnRoute(
  clock: Clock,
  s: EngineSnapshot,
  run: RouteRun,
  input: DispatchInput,
  lease: (poolId: string) => Promise<void>,
): Promise<DispatchResult | undefined> {
  const { summary } = run.call;
  let dispatchedAt = 0;
  try {
    const queuedAt = clock.monotonicMs();
    await lease(input.pool.id);
    dispatchedAt = clock.monotonicMs();
    summary.queueWaitMs += dispatchedAt - queuedAt;
    return await s.dispatcher.dispatch(input);
  } catch (error) {
    run.lastError = error;
    const failed = attemptsOf(error);
    if (dispatchedAt > 0)
      run.failedRoutesWaitMs += Math.max(0, clock.monotonicMs() - dispatchedAt - attemptsMs(failed));
    run.attempts.push(...failed);
    summary.attempts = run.attempts;
    if (!(error instanceof GatewayError) || !FALLBACK_CODES.has(error.code)) throw error;
    return undefined;
  }
}

/**
 * A prompt too long for the model: the routes another model may take it on, never one tried or a model that
 * already refused. With none, undefined (the refusal is the answer). Else the refusal is kept — returned
 * verbatim if nothing serves — and its attempt recorded as a failover.
 */
async function afterRefusal(
  s: EngineSnapshot,
  call: Call,
  run: RouteRun,
  current: RouteConfig,
  models: { readonly asked: string | undefined; readonly tried: string | undefined },
  result: DispatchResult,
): Promise<RouteConfig[] | undefined> {
  const refusedModels = (run.refusedModels ??= new Set());
  if (models.tried !== undefined) refusedModels.add(models.tried.toLowerCase());
  const progress = { triedRoutes: new Set(run.triedRoutes), refusedModels };
  const next = contextWindowPlan(s.router, current, models.asked, progress);
  if (next.length === 0) return undefined;
  const held = await holdRefusal(result);
  const servedAt = run.attempts.length + result.attempts.findIndex((a) => a.outcome === 'served');
  run.attempts.push(
    ...result.attempts.map((a) => (a.outcome === 'served' ? { ...a, outcome: 'failover' as const } : a)),
  );
  call.summary.attempts = run.attempts;
  if (held !== undefined) run.refused = { result: { ...held, attempts: [] }, routeId: current.id, servedAt };
  return next;
}

/** Every route tried: the refusal kept, else the last error (naming the routes tried when there were several). */
function endOfRoutes(call: Call, run: RouteRun): DispatchResult {
  const { refused, attempts, triedRoutes, lastError } = run;
  if (refused !== undefined) {
    attempts[refused.servedAt] = { ...attempts[refused.servedAt]!, outcome: 'served' };
    return finish(call, run, refused.result, refused.routeId);
  }
  if (triedRoutes.length > 1 && lastError instanceof GatewayError) {
    throw new GatewayError(lastError.code, {
      message: lastError.message,
      retryAfterMs: lastError.retryAfterMs,
      details: { attempts: attemptsForEnvelope(call.summary.attempts), routes: [...triedRoutes] },
    });
  }
  throw lastError;
}

/** The result as the call sees it: every route's attempts, and every wait of the routes that could not serve. */
function finish(call: Call, run: RouteRun, result: DispatchResult, routeId: string): DispatchResult {
  const { summary } = call;
  summary.routeId = routeId;
  // Served by the first route tried (the usual case): its attempts and waits are the call's, no copy needed.
  if (run.attempts.length === 0 && run.failedRoutesWaitMs === 0) {
    summary.attempts = result.attempts;
    const backendWaitMs = attemptsMs(result.attempts);
    return backendWaitMs === result.backendWaitMs ? result : { ...result, backendWaitMs };
  }
  summary.attempts = [...run.attempts, ...result.attempts];
  return {
    ...result,
    attempts: summary.attempts,
    backendWaitMs: attemptsMs(summary.attempts),
    retryWaitMs: result.retryWaitMs + run.failedRoutesWaitMs,
  };
}

function attemptsMs(attempts: readonly AttemptRecord[]): number {
  let ms = 0;
  for (const attempt of attempts) ms += attempt.durationMs;
  return ms;
}

/** The route's fallback routes, in order. */
function fallbackRoutes(s: EngineSnapshot, route: RouteConfig): RouteConfig[] {
  return route.fallbacks.map((id) => s.router.byId(id)).filter((r) => r !== undefined);
}

/** What the dispatcher gets on one route: the call's input with that route, its pool, its model and the requeue. */
function routeInput(s: EngineSnapshot, run: RouteRun, route: RouteConfig, model: string | undefined): DispatchInput {
  const { call, routed, upstream, options } = run;
  const pool = s.pools.get(route.pool)!;
  const { requeue } = options;
  return {
    requestId: call.requestId,
    method: call.request.method,
    target: routed.target,
    route,
    pool,
    model,
    forwardPath: routed.match.forwardPath,
    body: upstream.body,
    json: upstream.json,
    headers: routed.headers,
    callerCredentials: run.callerCredentials,
    // A recovery's own signal, when it has one.
    signal: options.signal ?? call.signal,
    deadlineMs: routed.deadline.expiresAtMs,
    attemptTimeoutMs: routed.deadline.attemptTimeoutMs,
    pinnedBackendId: routed.pinnedBackendId,
    excludeBackendIds: options.excludeBackendIds,
    requeue: requeue === undefined ? undefined : (untilMs, signal) => requeue(pool.id, untilMs, signal),
  };
}

function credentialHeaders(headers: HeaderReader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CALLER_CREDENTIAL_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
