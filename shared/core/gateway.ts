import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/gateway-schema.js';
import type { BackendConfig, RouteConfig } from '../config/schema.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { Clock } from './clock.js';
import { createDispatcher, type AttemptRecord, type DispatchResult, type Dispatcher } from './dispatch/dispatcher.js';
import type { ResiliencePolicy } from './dispatch/resilience-policy.js';
import { errorResponse } from './errors/error-envelope.js';
import { GatewayError } from './errors/gateway-error.js';
import { downstreamHeaders, upstreamHeaders } from './http/header-policy.js';
import type { GatewayRequest, GatewayResponse } from './http/gateway-request.js';
import { readBody } from './pipeline/read-body.js';
import { relayBody, type RelayOutcome } from './pipeline/stream-relay.js';
import { createRouter, type Router } from './routing/router.js';
import { parseRequestTarget, type RequestTarget } from './routing/request-target.js';

/** What the gateway knows about a call when it ends — the raw material of the usage record. */
export interface CallSummary {
  readonly requestId: string;
  readonly startedAtMs: number;
  readonly method: string;
  readonly path: string;
  readonly target: RequestTarget | undefined;
  readonly routeId: string | undefined;
  readonly modelAsked: string | undefined;
  readonly backend: BackendConfig | undefined;
  readonly attempts: readonly AttemptRecord[];
  readonly status: number;
  readonly outcome: RelayOutcome | 'rejected' | 'failed';
  readonly errorCode: string | undefined;
  readonly ttfbMs: number | undefined;
  readonly totalMs: number;
  readonly overheadMs: number | undefined;
  readonly responseBytes: number;
}

/** Dependencies of {@link createGateway}. */
export interface GatewayDeps {
  /** The current configuration snapshot; a call keeps the snapshot it started with. */
  readonly config: () => GatewayConfig;
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  /** Resilience decisions; long-lived across config reloads (it holds health state). */
  readonly policy: ResiliencePolicy;
  /** Called once per call when it has fully ended (body relayed or error sent). Must not throw. */
  readonly onCallEnd?: (summary: CallSummary) => void;
  /** Readiness detail for `/health/ready`. */
  readonly readiness?: () => { ready: boolean; detail: Record<string, unknown> };
}

/** The engine: a web-standard request in, a response out. */
export interface Gateway {
  handle(request: GatewayRequest): Promise<GatewayResponse>;
}

interface Snapshot {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly dispatcher: Dispatcher;
  readonly pools: ReadonlyMap<string, GatewayConfig['pools'][number]>;
  readonly stripResponse: ReadonlySet<string>;
  readonly stripRequest: ReadonlySet<string>;
}

const JSON_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Builds the engine. Each call: built-in endpoints → read the body (bounded) → route (API shape,
 * model, path prefix) → dispatch over the route's pool with failover, then its fallback routes →
 * relay the response (streamed) with the gateway's headers → report the call's summary.
 *
 * @example
 * const gateway = createGateway({ config: () => config, transport, credentials, clock: systemClock, policy });
 * const response = await gateway.handle(request);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { clock } = deps;
  const snapshots = new WeakMap<GatewayConfig, Snapshot>();

  function snapshot(): Snapshot {
    const config = deps.config();
    let s = snapshots.get(config);
    if (s === undefined) {
      const backends = new Map(config.backends.map((b) => [b.id, b]));
      s = {
        config,
        router: createRouter(config),
        dispatcher: createDispatcher({ transport: deps.transport, credentials: deps.credentials, clock, policy: deps.policy, backends }),
        pools: new Map(config.pools.map((p) => [p.id, p])),
        stripResponse: new Set(config.headers.stripResponse.map((h) => h.toLowerCase())),
        stripRequest: new Set(config.headers.stripRequest.map((h) => h.toLowerCase())),
      };
      snapshots.set(config, s);
    }
    return s;
  }

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const requestId = randomUUID();
    const startedAtMs = clock.now();
    const startMono = clock.monotonicMs();
    const url = new URL(request.url);
    const summary: Mutable<CallSummary> = {
      requestId, startedAtMs, method: request.method, path: url.pathname, target: undefined, routeId: undefined, modelAsked: undefined,
      backend: undefined, attempts: [], status: 0, outcome: 'failed', errorCode: undefined, ttfbMs: undefined, totalMs: 0, overheadMs: undefined, responseBytes: 0,
    };
    const fail = (error: unknown): GatewayResponse => {
      const response = errorResponse(error, requestId);
      summary.status = response.status;
      summary.errorCode = error instanceof GatewayError ? error.code : 'GW_ERR_INTERNAL';
      summary.outcome = error instanceof GatewayError && error.status < 500 && error.code !== 'GW_ERR_REQUEST_CLIENT_CLOSED' ? 'rejected' : error instanceof GatewayError && error.code === 'GW_ERR_REQUEST_CLIENT_CLOSED' ? 'caller_aborted' : 'failed';
      summary.totalMs = clock.monotonicMs() - startMono;
      response.headers.set('x-gateway-overhead-ms', (summary.totalMs - dispatchWaitMs(summary.attempts)).toFixed(2));
      deps.onCallEnd?.(summary);
      return response;
    };

    try {
      const s = snapshot();
      const builtin = builtinEndpoint(request.method, url.pathname, s, requestId);
      if (builtin !== undefined) return builtin;

      const target = parseRequestTarget(url.pathname, url.search);
      summary.target = target;
      const body = await readBody(JSON_BODY_METHODS.has(request.method) ? request.body : null, request.headers.get('content-length'), s.config.limits.maxBodyBytes);
      const json = target.modelInBody && body !== null ? parseJson(body) : undefined;
      const model = target.pathModel ?? (typeof json?.model === 'string' ? json.model : undefined);
      summary.modelAsked = model;
      if (target.modelInBody && request.method === 'POST' && model === undefined) {
        throw new GatewayError('GW_ERR_REQUEST_MODEL_MISSING', { param: 'model' });
      }
      const match = (model !== undefined ? s.router.byModel(model) : undefined) ?? s.router.byPath(url.pathname);
      if (match === undefined) {
        throw model !== undefined ? new GatewayError('GW_ERR_REQUEST_MODEL_NOT_FOUND', { message: `The model "${model}" is not served by this gateway.`, param: 'model' }) : new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', { message: `No route matches ${request.method} ${url.pathname}.` });
      }
      summary.routeId = match.route.id;

      const headers = upstreamHeaders(request.headers, { strip: s.stripRequest, keepCallerCredentials: false });
      const callerCredentials = credentialHeaders(request.headers);
      const result = await dispatchWithFallbacks(s, match.route, {
        requestId, method: request.method, target, model, forwardPath: match.forwardPath, body, json, headers, callerCredentials,
        signal: request.signal, deadlineMs: startedAtMs + 300_000, attemptTimeoutMs: undefined,
      }, summary);
      return respond(s, result, target, requestId, startMono, summary);
    } catch (error) {
      return fail(error);
    }
  }

  async function dispatchWithFallbacks(s: Snapshot, route: RouteConfig, input: Omit<Parameters<Dispatcher['dispatch']>[0], 'route' | 'pool'>, summary: Mutable<CallSummary>): Promise<DispatchResult> {
    const attempts: AttemptRecord[] = [];
    const chain = [route, ...route.fallbacks.map((id) => s.router.byId(id)).filter((r): r is RouteConfig => r !== undefined)];
    let lastError: unknown;
    for (const [i, current] of chain.entries()) {
      const pool = s.pools.get(current.pool)!;
      const model = i === 0 ? current.model ?? input.model : current.model ?? current.match.models?.find((m) => !m.endsWith('*')) ?? input.model;
      try {
        const result = await s.dispatcher.dispatch({ ...input, model, route: current, pool });
        summary.routeId = current.id;
        summary.attempts = [...attempts, ...result.attempts];
        return { ...result, attempts: summary.attempts };
      } catch (error) {
        lastError = error;
        const prior = error instanceof GatewayError ? (error.details?.attempts as AttemptRecord[] | undefined) : undefined;
        if (prior) attempts.push(...prior);
        summary.attempts = attempts;
        // Only an exhausted pool moves to the fallback route; the caller's own errors do not.
        if (!(error instanceof GatewayError) || !['GW_ERR_BACKEND_EXHAUSTED', 'GW_ERR_BACKEND_ALL_OPEN', 'GW_ERR_BACKEND_THROTTLED', 'GW_ERR_BACKEND_TIMEOUT', 'GW_ERR_BACKEND_NONE_CONFIGURED'].includes(error.code)) throw error;
      }
    }
    if (chain.length > 1 && lastError instanceof GatewayError) {
      throw new GatewayError(lastError.code, { message: lastError.message, retryAfterMs: lastError.retryAfterMs, details: { attempts: summary.attempts, routes: chain.map((r) => r.id) } });
    }
    throw lastError;
  }

  function respond(s: Snapshot, result: DispatchResult, target: RequestTarget, requestId: string, startMono: number, summary: Mutable<CallSummary>): GatewayResponse {
    const { response, backend } = result;
    const headers = downstreamHeaders(response.headers, s.stripResponse, false);
    const elapsed = clock.monotonicMs() - startMono;
    const overheadMs = Math.max(0, elapsed - result.backendWaitMs);
    headers.set('x-gateway-request-id', requestId);
    headers.set('x-gateway-backend', backend.id);
    headers.set('x-gateway-attempts', String(result.attempts.length));
    headers.set('x-gateway-overhead-ms', overheadMs.toFixed(2));
    headers.append('server-timing', `gateway;dur=${overheadMs.toFixed(2)}, backend;dur=${result.backendWaitMs.toFixed(2)}`);
    summary.backend = backend;
    summary.status = response.status;
    summary.ttfbMs = elapsed;
    summary.overheadMs = overheadMs;
    const contentType = headers.get('content-type') ?? '';
    const sse = contentType.startsWith('text/event-stream');
    let bytes = 0;
    const body = relayBody({
      source: response.body,
      sse,
      shape: target.shape,
      requestId,
      observe: (chunk) => {
        bytes += chunk.byteLength;
      },
      abort: result.abort,
      finish: (outcome) => {
        summary.outcome = outcome;
        summary.responseBytes = bytes;
        summary.totalMs = clock.monotonicMs() - startMono;
        deps.onCallEnd?.(summary);
      },
    });
    return { status: response.status, headers, body };
  }

  function builtinEndpoint(method: string, path: string, s: Snapshot, requestId: string): GatewayResponse | undefined {
    if (path === '/health/live') return json(200, { status: 'live' }, requestId);
    if (path === '/health/ready') {
      const readiness = deps.readiness?.() ?? { ready: s.config.backends.length > 0, detail: { backends: s.config.backends.length } };
      return json(readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not_ready', ...readiness.detail }, requestId);
    }
    if (method === 'GET' && (path === '/v1/models' || path === '/openai/v1/models')) {
      return json(200, { object: 'list', data: s.router.models().map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })) }, requestId);
    }
    return undefined;
  }

  return { handle };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function dispatchWaitMs(attempts: readonly AttemptRecord[]): number {
  return attempts.reduce((sum, a) => sum + a.durationMs, 0);
}

const decoder = new TextDecoder();

function parseJson(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new GatewayError('GW_ERR_REQUEST_INVALID_JSON', { message: `The request body is not valid JSON: ${(error as Error).message}` });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GatewayError('GW_ERR_REQUEST_INVALID_JSON', { message: 'The request body must be a JSON object.' });
  return value as Record<string, unknown>;
}

const CREDENTIAL_HEADERS = ['authorization', 'api-key', 'x-api-key', 'x-goog-api-key'];

function credentialHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CREDENTIAL_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

function json(status: number, value: unknown, requestId: string): GatewayResponse {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const headers = new Headers({ 'content-type': 'application/json', 'content-length': String(bytes.byteLength), 'x-gateway-request-id': requestId, 'cache-control': 'no-store' });
  return { status, headers, body: (async function* () { yield bytes; })() };
}
