import type { BackendConfig, PoolConfig, RouteConfig, TimeoutsConfig } from '../../config/schema.js';
import type { BackendResponse, BackendTransport, TransportErrorKind } from '../../ports/backend-transport.js';
import { TransportError } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestTarget } from '../routing/request-target.js';
import { upstreamPath } from './upstream-path.js';
import type { ResiliencePolicy } from './resilience-policy.js';

/** One backend attempt, as reported in headers, error bodies and the usage record. */
export interface AttemptRecord {
  readonly backend: string;
  readonly group: string;
  /** The backend's status, when it answered. */
  readonly status: number | undefined;
  /** The transport failure, when it did not. */
  readonly error: TransportErrorKind | undefined;
  readonly durationMs: number;
  /** `served` = this attempt's response went to the caller. */
  readonly outcome: 'served' | 'failover' | 'skipped';
}

/** Everything an attempt loop needs about one call. */
export interface DispatchInput {
  readonly requestId: string;
  readonly method: string;
  readonly target: RequestTarget;
  readonly route: RouteConfig;
  readonly pool: PoolConfig;
  /** The model asked for (body `model`, Azure deployment, Gemini model), if any. */
  readonly model: string | undefined;
  readonly forwardPath: string | undefined;
  /** Raw body bytes as received. */
  readonly body: Uint8Array | null;
  /** The parsed JSON body when the request is JSON (the body is re-serialised only if a field changes). */
  readonly json: Record<string, unknown> | undefined;
  /** Upstream headers after the header policy (no credentials). */
  readonly headers: Record<string, string>;
  /** The caller's credential headers, sent only to `passthrough` backends. */
  readonly callerCredentials: Record<string, string>;
  readonly signal: AbortSignal;
  /** Absolute deadline (TTL) in clock ms. */
  readonly deadlineMs: number;
  /** Per-attempt total timeout requested by the caller (`x-gateway-timeout`), if any. */
  readonly attemptTimeoutMs: number | undefined;
}

/** A backend response that goes to the caller. */
export interface DispatchResult {
  readonly response: BackendResponse;
  readonly backend: BackendConfig;
  readonly attempts: readonly AttemptRecord[];
  /** Time from the first attempt's start to the serving attempt's response headers. */
  readonly backendWaitMs: number;
  /** Aborts the serving attempt (the response body stops). */
  readonly abort: (reason?: unknown) => void;
  /** Effective timeouts of the serving attempt (idle gap is enforced by the transport). */
  readonly timeouts: Required<TimeoutsConfig>;
}

/** Defaults when neither backend nor route sets a timeout. A silent backend is abandoned in 60 s, not 130. */
export const DEFAULT_TIMEOUTS: Required<TimeoutsConfig> = { connectMs: 5_000, firstByteMs: 60_000, idleMs: 30_000, totalMs: 600_000 };

/** Dependencies of {@link createDispatcher}. */
export interface DispatcherDeps {
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  readonly policy: ResiliencePolicy;
  /** Backends by id and each backend's URL parts, for the current config snapshot. */
  readonly backends: ReadonlyMap<string, BackendConfig>;
  /** Default deadlines (config `resilience.timeouts`). */
  readonly defaultTimeouts?: Required<TimeoutsConfig>;
}

/** Runs the attempt loop of one call over a pool. */
export interface Dispatcher {
  dispatch(input: DispatchInput): Promise<DispatchResult>;
}

/**
 * The attempt loop: ask the policy for an ordered plan over the pool (priority groups, weights,
 * health), then try backends in order — each attempt with its deadlines and the caller's abort —
 * classify what came back, and either return it, move on, or stop. Retry-After from a throttling
 * backend cools that backend and the call moves on at once; only when no backend is eligible does
 * the call wait for the earliest one, within its TTL.
 *
 * @example
 * const dispatcher = createDispatcher({ transport, credentials, clock, policy, backends });
 * const { response, backend } = await dispatcher.dispatch(input);
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { transport, credentials, clock, policy } = deps;
  const defaults = deps.defaultTimeouts ?? DEFAULT_TIMEOUTS;
  const urlParts = new Map<string, { origin: string; basePath: string }>();
  for (const backend of deps.backends.values()) {
    const url = new URL(backend.url);
    urlParts.set(backend.id, { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') });
  }

  return {
    async dispatch(input: DispatchInput): Promise<DispatchResult> {
      const attempts: AttemptRecord[] = [];
      const started = clock.monotonicMs();
      const bodies = new Map<string | undefined, Uint8Array | null>();
      const budget = policy.budget(clock.now(), input.deadlineMs);
      let lastRetryAfterMs: number | undefined;

      for (let round = 0; round < 2; round++) {
        const plan = policy.plan(input.pool, deps.backends, clock.now());
        if (plan.kind === 'none') {
          const waitMs = plan.retryAfterMs;
          // Nobody eligible: wait for the earliest backend only if it comes back within the TTL and the time budget.
          if (round === 0 && attempts.length === 0 && waitMs !== undefined && budget.canWait(clock.now(), waitMs)) {
            await abortableDelay(waitMs, input.signal);
            continue;
          }
          throw exhausted(plan.reason, attempts, plan.retryAfterMs ?? lastRetryAfterMs);
        }
        for (const backend of plan.backends) {
          if (input.signal.aborted) throw new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED');
          if (!budget.canAttempt(clock.now(), attempts.length)) break;
          if (!policy.tryAcquire(backend.id, clock.now())) {
            continue;
          }
          const timeouts = effectiveTimeouts(defaults, backend.timeouts, input.route.timeouts, input.attemptTimeoutMs, input.deadlineMs - clock.now());
          if (timeouts.totalMs <= 0) throw new GatewayError('GW_ERR_REQUEST_TTL_EXPIRED', { details: { attempts } });
          const parts = urlParts.get(backend.id)!;
          const target = upstreamPath(input.target, backend, parts.basePath, input.model, input.forwardPath);
          const body = bodyFor(input, target.bodyModel, bodies);
          const controller = new AbortController();
          const onCallerAbort = (): void => controller.abort(input.signal.reason);
          input.signal.addEventListener('abort', onCallerAbort, { once: true });
          const totalTimer = setTimeout(() => controller.abort(new TransportError('idle-timeout', 'total attempt deadline reached')), timeouts.totalMs);
          const attemptStart = clock.monotonicMs();
          const release = (): void => {
            clearTimeout(totalTimer);
            input.signal.removeEventListener('abort', onCallerAbort);
          };
          let response: BackendResponse;
          try {
            const auth = backend.auth.type === 'passthrough' ? input.callerCredentials : await credentials.headersFor(backend, input.signal);
            response = await transport.send({
              backendId: backend.id,
              origin: parts.origin,
              path: target.path,
              method: input.method,
              headers: { ...input.headers, ...backend.headers, ...auth, 'x-gateway-request-id': input.requestId },
              body,
              signal: controller.signal,
              firstByteTimeoutMs: timeouts.firstByteMs,
              idleTimeoutMs: timeouts.idleMs,
              connectTimeoutMs: timeouts.connectMs,
            });
          } catch (error) {
            release();
            const kind = error instanceof TransportError ? error.kind : 'other';
            const durationMs = clock.monotonicMs() - attemptStart;
            if (input.signal.aborted) throw new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', { cause: error });
            const verdict = policy.classify({ phase: kind === 'connect-refused' || kind === 'connect-timeout' || kind === 'dns' ? 'connect' : 'sent', errorKind: kind, gatewayCredentials: backend.auth.type !== 'passthrough' && backend.auth.type !== 'none' });
            policy.onFailure(backend.id, verdict, clock.now());
            attempts.push({ backend: backend.id, group: backend.group, status: undefined, error: kind, durationMs, outcome: 'failover' });
            if (verdict.action === 'fatal') throw exhausted('fatal', attempts, undefined);
            continue;
          }
          const durationMs = clock.monotonicMs() - attemptStart;
          const retryAfterMs = policy.retryAfterMs(response.headers, clock.now());
          const verdict = policy.classify({ phase: 'headers', status: response.status, gatewayCredentials: backend.auth.type !== 'passthrough' && backend.auth.type !== 'none', retryAfterMs, errorCode: response.headers['x-ms-error-code'] as string | undefined });
          if (verdict.action === 'return') {
            policy.onSuccess(backend.id, durationMs, response.status, clock.now());
            attempts.push({ backend: backend.id, group: backend.group, status: response.status, error: undefined, durationMs, outcome: 'served' });
            return {
              response: wrapRelease(response, release),
              backend,
              attempts,
              backendWaitMs: clock.monotonicMs() - started,
              abort: (reason) => controller.abort(reason),
              timeouts,
            };
          }
          release();
          policy.onFailure(backend.id, verdict, clock.now());
          if (retryAfterMs !== undefined) lastRetryAfterMs = lastRetryAfterMs === undefined ? retryAfterMs : Math.min(lastRetryAfterMs, retryAfterMs);
          attempts.push({ backend: backend.id, group: backend.group, status: response.status, error: undefined, durationMs, outcome: 'failover' });
          await response.dump();
          if (verdict.action === 'fatal') throw exhausted('fatal', attempts, lastRetryAfterMs);
        }
        if (attempts.length > 0) break;
      }
      throw exhausted(attempts.every((a) => a.status === 429) && attempts.length > 0 ? 'all-throttled' : 'exhausted', attempts, lastRetryAfterMs);
    },
  };
}

function exhausted(reason: 'all-open' | 'all-cooling' | 'all-throttled' | 'exhausted' | 'fatal' | 'none-configured', attempts: readonly AttemptRecord[], retryAfterMs: number | undefined): GatewayError {
  const details = { attempts: attempts.map((a) => ({ backend: a.backend, status: a.status ?? null, error: a.error ?? null, duration_ms: Math.round(a.durationMs) })) };
  switch (reason) {
    case 'all-open':
      return new GatewayError('GW_ERR_BACKEND_ALL_OPEN', { retryAfterMs, details });
    case 'all-cooling':
    case 'all-throttled':
      return new GatewayError('GW_ERR_BACKEND_THROTTLED', { retryAfterMs: retryAfterMs ?? 1000, details });
    case 'none-configured':
      return new GatewayError('GW_ERR_BACKEND_NONE_CONFIGURED', { details });
    default:
      if (attempts.length > 0 && attempts.every((a) => a.error === 'ttfb-timeout' || a.error === 'connect-timeout')) return new GatewayError('GW_ERR_BACKEND_TIMEOUT', { retryAfterMs, details });
      return new GatewayError('GW_ERR_BACKEND_EXHAUSTED', { retryAfterMs, details });
  }
}

function effectiveTimeouts(defaults: Required<TimeoutsConfig>, backend: TimeoutsConfig, route: TimeoutsConfig, callerTimeoutMs: number | undefined, ttlRemainingMs: number): Required<TimeoutsConfig> {
  const totalMs = Math.min(callerTimeoutMs ?? route.totalMs ?? backend.totalMs ?? defaults.totalMs, ttlRemainingMs);
  return {
    connectMs: Math.min(route.connectMs ?? backend.connectMs ?? defaults.connectMs, totalMs),
    firstByteMs: Math.min(route.firstByteMs ?? backend.firstByteMs ?? defaults.firstByteMs, totalMs),
    idleMs: route.idleMs ?? backend.idleMs ?? defaults.idleMs,
    totalMs,
  };
}

const encoder = new TextEncoder();

function bodyFor(input: DispatchInput, bodyModel: string | undefined, cache: Map<string | undefined, Uint8Array | null>): Uint8Array | null {
  if (bodyModel === undefined || input.json === undefined || input.json.model === bodyModel) return input.body;
  let body = cache.get(bodyModel);
  if (body === undefined) {
    body = encoder.encode(JSON.stringify({ ...input.json, model: bodyModel }));
    cache.set(bodyModel, body);
  }
  return body;
}

/** Releases the attempt's timers once the body has been read to the end or abandoned. */
function wrapRelease(response: BackendResponse, release: () => void): BackendResponse {
  const body = response.body;
  return {
    ...response,
    body: {
      async *[Symbol.asyncIterator]() {
        try {
          yield* body;
        } finally {
          release();
        }
      },
    },
  };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
