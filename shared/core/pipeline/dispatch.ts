import type { RouteConfig } from '../../config/schema.js';
import type { Clock } from '../clock.js';
import {
  attemptsForEnvelope,
  attemptsOf,
  type AttemptRecord,
  type DispatchInput,
  type DispatchResult,
} from '../dispatch/dispatcher.js';
import { GatewayError } from '../errors/gateway-error.js';
import { CALLER_CREDENTIAL_HEADERS } from '../http/header-policy.js';
import type { Call } from './call-summary.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { RoutedCall } from './route.js';

/** The body to send upstream: the one received, or the one rewritten for metering (include_usage). */
export interface UpstreamBody {
  readonly body: Uint8Array | null;
  readonly json: Record<string, unknown> | undefined;
}

/** Options of {@link dispatchWithFallbacks} for a stream recovery's attempt. */
export interface DispatchOptions {
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

/**
 * **dispatch**: runs the dispatcher (attempts, failover, deadlines) over the route's pool, then over its
 * fallback routes in order when a pool is exhausted or unusable (every breaker open, every backend
 * cooling). Each route's pool is scheduled on its own: `lease(poolId)` is awaited before its attempts, so
 * the call holds capacity in the pool that serves it. The caller's own errors (4xx) never move on to a
 * fallback. Writes the route, attempts and queue wait to the call's summary as it goes, so a failure is
 * recorded with the attempts made. The result's `backendWaitMs` and `retryWaitMs` cover every route tried:
 * all attempts, and every wait between them (a route that could not serve counts as waiting).
 *
 * @example
 * const result = await dispatchWithFallbacks(clock, snapshot, call, routed, upstream, leases.take);
 */
export async function dispatchWithFallbacks(
  clock: Clock,
  s: EngineSnapshot,
  call: Call,
  routed: RoutedCall,
  upstream: UpstreamBody,
  lease: (poolId: string) => Promise<void>,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  const { summary } = call;
  const input = {
    ...dispatchInput(call, routed, upstream),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    excludeBackendIds: options.excludeBackendIds,
  };
  const first = routed.match.route;
  const chain = [first, ...first.fallbacks.map((id) => s.router.byId(id)).filter((r) => r !== undefined)];
  const attempts: AttemptRecord[] = [];
  // Time on routes that could not serve, besides their attempts: their waits between attempts.
  let failedRoutesWaitMs = 0;
  let lastError: unknown;
  for (const [i, current] of chain.entries()) {
    const pool = s.pools.get(current.pool)!;
    let dispatchedAt = 0;
    try {
      const queuedAt = clock.monotonicMs();
      await lease(pool.id);
      dispatchedAt = clock.monotonicMs();
      summary.queueWaitMs += dispatchedAt - queuedAt;
      const result = await s.dispatcher.dispatch({
        ...input,
        model: modelFor(current, i, input.model),
        route: current,
        pool,
      });
      summary.routeId = current.id;
      summary.attempts = [...attempts, ...result.attempts];
      return {
        ...result,
        attempts: summary.attempts,
        backendWaitMs: attemptsMs(summary.attempts),
        retryWaitMs: result.retryWaitMs + failedRoutesWaitMs,
      };
    } catch (error) {
      lastError = error;
      const failed = attemptsOf(error);
      if (dispatchedAt > 0) failedRoutesWaitMs += Math.max(0, clock.monotonicMs() - dispatchedAt - attemptsMs(failed));
      attempts.push(...failed);
      summary.attempts = attempts;
      if (!(error instanceof GatewayError) || !FALLBACK_CODES.has(error.code)) throw error;
    }
  }
  if (chain.length > 1 && lastError instanceof GatewayError) {
    throw new GatewayError(lastError.code, {
      message: lastError.message,
      retryAfterMs: lastError.retryAfterMs,
      details: { attempts: attemptsForEnvelope(summary.attempts), routes: chain.map((r) => r.id) },
    });
  }
  throw lastError;
}

function attemptsMs(attempts: readonly AttemptRecord[]): number {
  let ms = 0;
  for (const attempt of attempts) ms += attempt.durationMs;
  return ms;
}

/** The model a route of the chain asks its pool for: the route's own, else (fallbacks) its first exact match. */
function modelFor(route: RouteConfig, index: number, asked: string | undefined): string | undefined {
  if (index === 0) return route.model ?? asked;
  return route.model ?? route.match.models?.find((m) => !m.endsWith('*')) ?? asked;
}

function dispatchInput(call: Call, routed: RoutedCall, upstream: UpstreamBody): Omit<DispatchInput, 'route' | 'pool'> {
  return {
    requestId: call.requestId,
    method: call.request.method,
    target: routed.target,
    model: routed.model,
    forwardPath: routed.match.forwardPath,
    body: upstream.body,
    json: upstream.json,
    headers: routed.headers,
    callerCredentials: credentialHeaders(call.request.headers),
    signal: call.request.signal,
    deadlineMs: routed.deadline.expiresAtMs,
    attemptTimeoutMs: routed.deadline.attemptTimeoutMs,
    pinnedBackendId: routed.pinnedBackendId,
  };
}

function credentialHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CALLER_CREDENTIAL_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
