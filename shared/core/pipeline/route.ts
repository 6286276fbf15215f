import { AnswerHeaders } from '../http/answer-headers.js';
import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { AffinityStore } from '../../ports/affinity-store.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import { GatewayError } from '../errors/gateway-error.js';
import { rejectDuplicateDecidedKeys } from '../http/decided-keys.js';
import type { GatewayAdmission } from '../governance/admission.js';
import { upstreamHeaders } from '../http/header-policy.js';
import { createRequestDeadline, type RequestDeadline } from '../resilience/request-deadline.js';
import { createsState, referencedStateId, StateIdSniffer } from '../routing/affinity.js';
import { parseRequestTarget, type RequestTarget } from '../routing/request-target.js';
import type { RouteMatch } from '../routing/router.js';
import type { CallContext } from './admit.js';
import type { Call } from './call-summary.js';
import { poolHas, type EngineSnapshot } from './engine-snapshot.js';
import { createBackgroundWrites, type BackgroundWrites } from '../resilience/background-writes.js';
import type { BodyLease } from './body-budget.js';
import { readBody } from './read-body.js';
import type { HeaderReader } from '../http/header-map.js';

/** The output of {@link route}: where the call goes and what it carries. */
export interface RoutedCall {
  readonly target: RequestTarget;
  /** The call's TTL and per-attempt timeout. */
  readonly deadline: RequestDeadline;
  /** The body as received (bounded by `limits.maxBodyBytes`), or null. */
  readonly body: Uint8Array | null;
  /** The parsed JSON body, when the model is in it or an Azure OpenAI call sends JSON. */
  readonly json: Record<string, unknown> | undefined;
  /** The model asked for: the path's (Azure deployment, Gemini model) or the body's `model`. */
  readonly model: string | undefined;
  /** The route (its pool and fallbacks) and the path to forward. */
  readonly match: RouteMatch;
  /** The backend that holds the state the call refers to, when it is a member of the route's pool. */
  readonly pinnedBackendId: string | undefined;
  /** Upstream headers after the header policy and the profile's header rules (no caller credentials). */
  readonly headers: Record<string, string>;
}

/** Dependencies of {@link route}. */
export interface RouteDeps {
  /** Which backend holds which server-side state (Responses API, files, threads…). */
  readonly affinity: Pick<AffinityStore, 'get'>;
  readonly admission: Pick<GatewayAdmission, 'authorizeTarget'>;
}

const JSON_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * **route**: parses the API shape and the TTL, reads the body (bounded), finds the model (path or body),
 * the route that serves it (by model, by path prefix, or by the backend holding the state the call refers
 * to), checks the profile's allowlists and applies its header rules. Throws 4xx `GatewayError`s: invalid
 * JSON (a decided-on key named twice included, see `DECIDED_KEYS`), model missing, model or route not found,
 * model not allowed, body too large; a 503 when the body does not fit in the bytes buffered across calls
 * (`bodyLease`, which the caller releases when the call ends).
 *
 * @example
 * const routed = await route(deps, snapshot(), call, context);
 * routed.match.route.pool // → 'gpt-4o'
 */
export async function route(
  deps: RouteDeps,
  s: EngineSnapshot,
  call: Call,
  context: CallContext,
  bodyLease?: BodyLease,
): Promise<RoutedCall> {
  const { request, url, summary } = call;
  const target = parseRequestTarget(url.pathname, url.search);
  summary.target = target;
  const deadline = requestDeadline(request.headers, summary.startedAtMs, s.config, context.asyncJobId !== undefined);
  const body = await readBody(
    JSON_BODY_METHODS.has(request.method) ? request.body : null,
    request.headers.get('content-length'),
    s.config.limits.maxBodyBytes,
    bodyLease,
  );
  const json =
    body !== null &&
    (target.modelInBody || (target.shape === 'azure-openai' && isJson(request.headers.get('content-type'))))
      ? parseJson(body)
      : undefined;
  const model = target.pathModel ?? (typeof json?.model === 'string' ? json.model : undefined);
  summary.modelAsked = model;
  if (target.modelInBody && request.method === 'POST' && model === undefined)
    throw new GatewayError('GW_ERR_REQUEST_MODEL_MISSING', { param: 'model' });
  // A call that refers to state held by one backend goes to that backend.
  const stateId = referencedStateId(target, json);
  const pinned = stateId === undefined ? undefined : await deps.affinity.get(stateId);
  const match =
    (model !== undefined ? s.router.byModel(model) : undefined) ??
    s.router.byPath(url.pathname) ??
    (pinned === undefined ? undefined : routeServing(s, pinned));
  if (match === undefined) throw noRoute(request.method, url.pathname, model, stateId);
  summary.routeId = match.route.id;
  const headers = upstreamHeaders(request.headers, { strip: s.stripRequest, keepCallerCredentials: false });
  // A job's admission is its owner's standing now: a narrowed allowlist stops a job queued before it.
  const { admission } = context;
  deps.admission.authorizeTarget(admission, {
    routeId: match.route.id,
    model: target.shape === 'azure-openai' ? undefined : model,
    deployment: target.shape === 'azure-openai' ? model : undefined,
  });
  for (const name of admission.upstreamHeaders.remove) delete headers[name];
  Object.assign(headers, admission.upstreamHeaders.set);
  const pinnedBackendId = pinned !== undefined && poolHas(s, match.route.pool, pinned) ? pinned : undefined;
  return { target, deadline, body, json, model, match, pinnedBackendId, headers };
}

/**
 * Affinity learning: for a call that creates server-side state (a Responses API response, a file…) and
 * succeeded, answers a chunk observer that remembers which backend holds the id it finds in the body.
 * The write is retried (it is idempotent); one still failing is counted and reported.
 */
export function learnAffinity(
  affinity: Pick<AffinityStore, 'set'>,
  s: EngineSnapshot,
  routed: RoutedCall,
  method: string,
  served: Pick<DispatchResult, 'backend' | 'response'>,
  writes: BackgroundWrites = createBackgroundWrites(),
): ((chunk: Uint8Array) => void) | undefined {
  if (!createsState(routed.target, method) || served.response.status >= 300) return undefined;
  const sniffer = new StateIdSniffer();
  const backendId = served.backend.id;
  return (chunk) => {
    const id = sniffer.push(chunk);
    if (id !== undefined)
      void writes.run('affinity-write', () => affinity.set(id, backendId, s.config.affinity.ttlMs), {
        retries: 2,
        context: { stateId: id, backendId },
      });
  };
}

/** The first route whose pool holds `backendId` (a pinned call with no model in it). */
function routeServing(s: EngineSnapshot, backendId: string): RouteMatch | undefined {
  const found = s.config.routes.find((r) => poolHas(s, r.pool, backendId));
  return found === undefined ? undefined : { route: found, forwardPath: undefined };
}

function noRoute(method: string, path: string, model: string | undefined, stateId: string | undefined): GatewayError {
  if (model !== undefined)
    return new GatewayError('GW_ERR_REQUEST_MODEL_NOT_FOUND', {
      message: `The model "${model}" is not served by this gateway.`,
      param: 'model',
    });
  return new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
    message:
      stateId !== undefined
        ? `No backend is known to hold "${stateId}" ` +
          '(it was not created through this gateway, or its affinity expired).'
        : `No route matches ${method} ${path}.`,
  });
}

function requestDeadline(headers: HeaderReader, nowMs: number, config: GatewayConfig, job: boolean): RequestDeadline {
  const d = config.resilience.deadlines;
  // A job runs under its own long deadline (async.runDeadlineMs, the seed's AsyncTimeout), not the sync TTL.
  const ttl = job ? Math.max(d.defaultTtlMs, config.async.runDeadlineMs) : d.defaultTtlMs;
  return createRequestDeadline(job ? new AnswerHeaders() : headers, nowMs, {
    defaultTtlMs: ttl,
    maxTtlMs: Math.max(d.maxTtlMs, ttl),
    attemptTimeoutMs: job ? Math.max(d.totalMs, config.async.runDeadlineMs) : d.totalMs,
    maxAttemptTimeoutMs: Math.max(d.maxTotalMs, config.async.runDeadlineMs),
  });
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /[/+]json\b/i.test(contentType);
}

const decoder = new TextDecoder();

function parseJson(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new GatewayError('GW_ERR_REQUEST_INVALID_JSON', {
      message: `The request body is not valid JSON: ${(error as Error).message}`,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GatewayError('GW_ERR_REQUEST_INVALID_JSON', { message: 'The request body must be a JSON object.' });
  // What was checked is what goes upstream: the body is forwarded as received, so no decided key may repeat.
  rejectDuplicateDecidedKeys(body);
  return value as Record<string, unknown>;
}
