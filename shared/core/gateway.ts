import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/gateway-schema.js';
import type { BackendConfig, RouteConfig } from '../config/schema.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { Clock } from './clock.js';
import {
  attemptsForEnvelope,
  attemptsOf,
  createDispatcher,
  type AttemptRecord,
  type DispatchInput,
  type DispatchResult,
  type Dispatcher,
} from './dispatch/dispatcher.js';
import { errorResponse } from './errors/error-envelope.js';
import { GatewayError } from './errors/gateway-error.js';
import type { Admission, Caller, GatewayAdmission } from './governance/admission.js';
import type { JobRecord } from '../ports/job-store.js';
import { isAsyncRequested } from './jobs/async-opt-in.js';
import type { JobsApi } from './jobs/jobs-api.js';
import type { JobService } from './jobs/job-service.js';
import type { JobExecution } from './jobs/job-worker.js';
import type { QuotaReservation } from './governance/quota-guard.js';
import { CALLER_CREDENTIAL_HEADERS, downstreamHeaders, upstreamHeaders } from './http/header-policy.js';
import type { GatewayRequest, GatewayResponse } from './http/gateway-request.js';
import { readBody } from './pipeline/read-body.js';
import { relayBody, type RelayOutcome } from './pipeline/stream-relay.js';
import { createRequestDeadline, type RequestDeadline } from './resilience/request-deadline.js';
import type { HealthTracker } from './resilience/health-tracker.js';
import { createRouter, type RouteMatch, type Router } from './routing/router.js';
import { createsState, referencedStateId, StateIdSniffer } from './routing/affinity.js';
import type { AffinityStore } from '../ports/affinity-store.js';
import { parseRequestTarget, type RequestTarget } from './routing/request-target.js';
import type { SchedulerGate } from './scheduling/scheduler-gate.js';
import type { Lease } from './scheduling/scheduler-types.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import { injectIncludeUsage } from './usage/include-usage.js';
import { estimatePromptTokens } from './usage/prompt-estimate.js';
import { createUsageTransform } from './usage/usage-transform.js';
import { detectUsageApi, detectUsageFormat } from './usage/usage-format.js';
import { emptyUsageReading, type UsageReading } from './usage/usage-reading.js';

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
  /** Internal: sees response chunks as they pass (affinity learning). */
  readonly observeChunk?: ((chunk: Uint8Array) => void) | undefined;
}

/** Handles the gateway's own endpoints under `/admin/` once the caller is authorised as an admin. */
export type AdminHandler = (request: GatewayRequest, path: string) => Promise<GatewayResponse | undefined>;

/** Dependencies of {@link createGateway}. */
export interface GatewayDeps {
  /** The current configuration snapshot; a call keeps the snapshot it started with. */
  readonly config: () => GatewayConfig;
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  readonly random: () => number;
  /** Backend health (breakers, cooling, latency); long-lived across config reloads. */
  readonly health: HealthTracker;
  /** Caller identity, profiles, rules and quotas. */
  readonly admission: GatewayAdmission;
  /** Priority scheduling of backend capacity. */
  readonly gate: SchedulerGate;
  /** The gateway's admin endpoints (status, usage), behind `authorizeAdmin`. */
  readonly admin?: AdminHandler;
  /** Called once per call when it has fully ended (body relayed or error sent). Must not throw. */
  readonly onCallEnd?: (summary: CallSummary) => void;
  /** Estimates tokens a backend did not report (flagged `estimated` in the record). */
  readonly estimator?: TokenEstimator;
  /** Which backend holds which server-side state (Responses API, files, threads…). */
  readonly affinity: AffinityStore;
  /** Async jobs: the service that takes `x-gateway-async` calls and the job API under `/jobs`. */
  readonly jobs?: { readonly service: JobService; readonly api: JobsApi };
  /** Readiness detail for `/health/ready`. */
  /** Readiness beyond backends (stores reachable): `/health/ready` answers 503 when `ready` is false. */
  readonly readiness?: () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;
}

/** The engine: a web-standard request in, a response out. */
export interface Gateway {
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /**
   * Runs an admitted async job's request (the job worker's executor): route → schedule → dispatch →
   * respond, as the job's owner at the job's priority, with no second admission (the caller was admitted
   * when the job was submitted). The usage record carries the job id.
   */
  execute(
    request: GatewayRequest,
    job: JobRecord,
    options?: { readonly capacityHeld?: boolean },
  ): Promise<JobExecution>;
}

interface Snapshot {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly dispatcher: Dispatcher;
  readonly pools: ReadonlyMap<string, GatewayConfig['pools'][number]>;
  readonly stripResponse: ReadonlySet<string>;
  readonly stripRequest: ReadonlySet<string>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const JSON_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Thrown when a queued call reaches the sync wait and is to become a job. */
const UPGRADE_TO_JOB = Symbol('upgrade to job');
const FALLBACK_CODES = new Set([
  'GW_ERR_BACKEND_EXHAUSTED',
  'GW_ERR_BACKEND_ALL_OPEN',
  'GW_ERR_BACKEND_THROTTLED',
  'GW_ERR_BACKEND_TIMEOUT',
  'GW_ERR_BACKEND_NONE_CONFIGURED',
]);

/**
 * Builds the engine. Each call runs a fixed onion of stages:
 * 1. built-in endpoints (`/health/*`, `/v1/models`), then **admit** (identity → profile → rules →
 *    priority; 4xx here, nothing queued) and the admin API;
 * 2. read the body (bounded) and **route** it (API shape, model, path prefix), check the profile's
 *    allowlists, reserve tokens against the caller's quota, compute the TTL;
 * 3. **schedule**: wait for a capacity lease by priority (or 429/503 at once when the queue is full or
 *    every backend is open);
 * 4. **dispatch** over the route's pool with failover, then its fallback routes;
 * 5. **respond**: relay the body as it streams, with the gateway's headers;
 * 6. **record**: the lease is released and the call summary reported when the body ends, however it
 *    ends.
 *
 * @example
 * const gateway = createGateway({ config: () => config, transport, credentials, clock: systemClock, random: Math.random, health, admission, gate });
 * const response = await gateway.handle(request);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { clock } = deps;
  const snapshots = new WeakMap<GatewayConfig, Snapshot>();
  const roundRobin = new Map<string, number>();

  function snapshot(): Snapshot {
    const config = deps.config();
    let s = snapshots.get(config);
    if (s === undefined) {
      const backends = new Map(config.backends.map((b) => [b.id, b]));
      s = {
        config,
        router: createRouter(config),
        dispatcher: createDispatcher({
          transport: deps.transport,
          credentials: deps.credentials,
          clock,
          health: deps.health,
          resilience: config.resilience,
          backends,
          random: deps.random,
          roundRobin,
        }),
        pools: new Map(config.pools.map((p) => [p.id, p])),
        stripResponse: new Set(config.headers.stripResponse.map((h) => h.toLowerCase())),
        stripRequest: new Set(config.headers.stripRequest.map((h) => h.toLowerCase())),
      };
      snapshots.set(config, s);
    }
    return s;
  }

  /** Who a call runs as, and how: from admission (a live call) or from a job record (the worker). */
  interface CallContext {
    readonly caller: Caller;
    readonly priority: number;
    /** Set for live calls: the profile's allowlists, quota and header rules apply. */
    readonly admission: Admission | undefined;
    readonly asyncJobId: string | undefined;
    /** The call already holds its capacity (a durable job's ledger lease): take no scheduler lease. */
    readonly capacityHeld?: boolean;
  }

  function newSummary(request: GatewayRequest, url: URL): Mutable<CallSummary> {
    return {
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
  }

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const url = new URL(request.url);
    const summary = newSummary(request, url);
    const { requestId } = summary;
    const startMono = clock.monotonicMs();
    try {
      const s = snapshot();
      const builtin = await builtinEndpoint(request.method, url.pathname, s, requestId);
      if (builtin !== undefined) return builtin;

      // The admin API and an admin's view of jobs take the admin credential, not a caller's.
      if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
        await deps.admission.authorizeAdmin(request.headers);
        const answer = await deps.admin?.(request, url.pathname);
        if (answer === undefined)
          throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
            message: `No admin endpoint ${request.method} ${url.pathname}.`,
          });
        answer.headers.set('x-gateway-request-id', requestId);
        return answer;
      }
      const jobs = deps.jobs;
      const jobsPath = jobs !== undefined && jobs.api.matches(url.pathname);
      if (jobsPath && request.headers.has('x-gateway-admin-key')) {
        const admin = await deps.admission.authorizeAdmin(request.headers);
        return (await jobs.api.handle(request, { requester: admin, requestId })) ?? notFound(request, url);
      }

      // Header rules on `:path` see the path with its query (the seed's S7Path).
      const admission = await deps.admission.admit({
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
      });
      summary.caller = admission.caller;
      summary.priority = admission.priority;
      if (jobsPath)
        return (await jobs.api.handle(request, { requester: admission.caller, requestId })) ?? notFound(request, url);
      return await proceed(
        request,
        url,
        s,
        { caller: admission.caller, priority: admission.priority, admission, asyncJobId: undefined },
        summary,
        startMono,
      );
    } catch (error) {
      return fail(error, requestId, startMono, summary);
    }
  }

  async function execute(
    request: GatewayRequest,
    job: JobRecord,
    options: { readonly capacityHeld?: boolean } = {},
  ): Promise<JobExecution> {
    const url = new URL(request.url);
    const summary = newSummary(request, url);
    const caller: Caller = {
      userId: job.owner.userId,
      profileId: job.owner.profileId ?? 'anonymous',
      appId: job.owner.appId,
      identity: 'anonymous',
    };
    summary.caller = caller;
    summary.priority = job.priority;
    summary.asyncJobId = job.id;
    const startMono = clock.monotonicMs();
    let response: GatewayResponse;
    try {
      response = await proceed(
        request,
        url,
        snapshot(),
        {
          caller,
          priority: job.priority,
          admission: undefined,
          asyncJobId: job.id,
          capacityHeld: options.capacityHeld === true,
        },
        summary,
        startMono,
      );
    } catch (error) {
      response = fail(error, summary.requestId, startMono, summary);
    }
    return { response, usage: () => summary.usage };
  }

  /** Route → schedule → dispatch → respond, for an admitted live call or a job. */
  async function proceed(
    request: GatewayRequest,
    url: URL,
    s: Snapshot,
    context: CallContext,
    summary: Mutable<CallSummary>,
    startMono: number,
  ): Promise<GatewayResponse> {
    const { requestId } = summary;
    const { admission } = context;
    let lease: Lease | undefined;
    let reservation: QuotaReservation | undefined;
    const cleanup = (ok: boolean): void => {
      if (lease !== undefined) deps.gate.release(lease);
      lease = undefined;
      if (reservation !== undefined && !ok) void reservation.release().catch(() => undefined);
    };
    try {
      const target = parseRequestTarget(url.pathname, url.search);
      summary.target = target;
      const deadline = requestDeadline(
        request.headers,
        summary.startedAtMs,
        s.config,
        context.asyncJobId !== undefined,
      );
      const body = await readBody(
        JSON_BODY_METHODS.has(request.method) ? request.body : null,
        request.headers.get('content-length'),
        s.config.limits.maxBodyBytes,
      );
      let json =
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
      if (match === undefined) {
        throw model !== undefined
          ? new GatewayError('GW_ERR_REQUEST_MODEL_NOT_FOUND', {
              message: `The model "${model}" is not served by this gateway.`,
              param: 'model',
            })
          : new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
              message:
                stateId !== undefined
                  ? `No backend is known to hold "${stateId}" (it was not created through this gateway, or its affinity expired).`
                  : `No route matches ${request.method} ${url.pathname}.`,
            });
      }
      summary.routeId = match.route.id;
      const headers = upstreamHeaders(request.headers, { strip: s.stripRequest, keepCallerCredentials: false });
      if (admission !== undefined) {
        deps.admission.authorizeTarget(admission, {
          routeId: match.route.id,
          model: target.shape === 'azure-openai' ? undefined : model,
          deployment: target.shape === 'azure-openai' ? model : undefined,
        });
        reservation = await deps.admission.reserveTokens(admission, json);
        for (const name of admission.upstreamHeaders.remove) delete headers[name];
        Object.assign(headers, admission.upstreamHeaders.set);
      }

      // Exact metering of streams: ask the backend for the usage chunk; hide it again if the caller did not ask.
      const api = detectUsageApi(url.pathname);
      let sendBody = body;
      summary.stream = json?.stream === true;
      if (json !== undefined && s.config.usage.enabled && s.config.usage.injectIncludeUsage) {
        const plan = injectIncludeUsage(api, json);
        if (plan.injected) {
          json = plan.body as Record<string, unknown>;
          sendBody = encoder.encode(JSON.stringify(json));
          summary.includeUsageInjected = true;
        }
      }

      // Persist and queue the call as a job; answer inline if it finishes within `syncWaitMs`, else 202.
      const submitJob = async (jobAdmission: Admission, syncWaitMs?: number): Promise<GatewayResponse> => {
        const submitted = await deps.jobs!.service.submitAndWait({
          requestId,
          caller: jobAdmission.caller,
          routeId: match.route.id,
          model,
          priority: jobAdmission.priority,
          request: {
            method: request.method,
            path: url.pathname + url.search,
            headers: new Headers({ ...headers, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) }),
            body: body,
          },
          retentionMs: Math.min(jobAdmission.asyncResultRetentionMs, s.config.async.retentionMs),
          signal: request.signal,
          syncWaitMs,
        });
        // The quota is charged the reservation once the job is accepted: it runs later, possibly elsewhere
        // (a failed submission releases it in the catch below).
        if (reservation !== undefined) void reservation.settle(reservation.reservedTokens).catch(() => undefined);
        reservation = undefined;
        return submitted;
      };
      if (admission !== undefined && deps.jobs !== undefined && isAsyncRequested(request.headers)) {
        if (!s.config.async.enabled || !admission.asyncAllowed)
          throw new GatewayError('GW_ERR_POLICY_ASYNC_NOT_ALLOWED');
        return await submitJob(admission);
      }
      // A non-streaming call of a caller allowed async mode that waits in the queue past the sync wait is
      // upgraded to a job (202 + Location) instead of holding its HTTP response open (the seed's
      // AsyncTriggerTimeout, counted from the queue).
      const upgradable =
        admission !== undefined &&
        deps.jobs !== undefined &&
        s.config.async.enabled &&
        admission.asyncAllowed &&
        json?.stream !== true &&
        context.asyncJobId === undefined;

      const input = {
        requestId,
        method: request.method,
        target,
        model,
        forwardPath: match.forwardPath,
        body: sendBody,
        json,
        headers,
        callerCredentials: credentialHeaders(request.headers),
        signal: request.signal,
        deadlineMs: deadline.expiresAtMs,
        attemptTimeoutMs: deadline.attemptTimeoutMs,
        pinnedBackendId: pinned !== undefined && poolHas(s, match.route.pool, pinned) ? pinned : undefined,
      };
      let leases = 0;
      let result: DispatchResult;
      try {
        result = await dispatchWithFallbacks(s, match.route, input, summary, async (poolId) => {
          if (context.capacityHeld === true || lease?.poolId === poolId) return;
          if (lease !== undefined) deps.gate.release(lease);
          lease = undefined;
          const first = leases === 0;
          const upgradeAfter = first && upgradable ? AbortSignal.timeout(s.config.async.syncWaitMs) : undefined;
          try {
            lease = await schedule(
              s,
              poolId,
              leases++ === 0 ? requestId : `${requestId}#${leases}`,
              context,
              deadline,
              upgradeAfter === undefined ? request.signal : AbortSignal.any([request.signal, upgradeAfter]),
            );
          } catch (error) {
            if (upgradeAfter?.aborted === true && !request.signal.aborted) throw UPGRADE_TO_JOB;
            throw error;
          }
          summary.lease = lease;
        });
      } catch (error) {
        if (error === UPGRADE_TO_JOB && admission !== undefined) return await submitJob(admission, 0);
        throw error;
      }
      if (createsState(target, request.method) && result.response.status < 300) {
        const sniffer = new StateIdSniffer();
        const backendId = result.backend.id;
        summary.observeChunk = (chunk) => {
          const id = sniffer.push(chunk);
          if (id !== undefined) void deps.affinity.set(id, backendId, s.config.affinity.ttlMs).catch(() => undefined);
        };
      }
      const promptBody = json;
      const settledReservation = reservation;
      return respond(
        s,
        result,
        target,
        requestId,
        startMono,
        summary,
        request.signal,
        url.pathname,
        model,
        () =>
          promptBody === undefined || deps.estimator === undefined
            ? undefined
            : estimatePromptTokens(promptBody, deps.estimator, model),
        (usage) => {
          cleanup(true);
          // The quota is charged what the backend produced, cut or not; an error answer costs nothing.
          if (settledReservation !== undefined)
            void (
              result.response.status < 400 ? settledReservation.settle(usage.totalTokens) : settledReservation.release()
            ).catch(() => undefined);
        },
      );
    } catch (error) {
      cleanup(false);
      // A caller that left while its call waited in the queue or sent its body is a closed request (499),
      // whatever error the abort surfaced as.
      if (request.signal.aborted && !(error instanceof GatewayError && error.code !== 'GW_ERR_INTERNAL'))
        throw new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', { cause: error });
      throw error;
    }
  }

  /** The first route whose pool holds `backendId` (a pinned call with no model in it). */
  function routeServing(s: Snapshot, backendId: string): RouteMatch | undefined {
    const route = s.config.routes.find((r) => poolHas(s, r.pool, backendId));
    return route === undefined ? undefined : { route, forwardPath: undefined };
  }

  function poolHas(s: Snapshot, poolId: string, backendId: string): boolean {
    return s.pools.get(poolId)?.backends.some((m) => (typeof m === 'string' ? m : m.backend) === backendId) ?? false;
  }

  function notFound(request: GatewayRequest, url: URL): never {
    throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
      message: `No route matches ${request.method} ${url.pathname}.`,
    });
  }

  function requestDeadline(headers: Headers, nowMs: number, config: GatewayConfig, job: boolean): RequestDeadline {
    const d = config.resilience.deadlines;
    // A job runs under its own long deadline (async.runDeadlineMs, the seed's AsyncTimeout), not the sync TTL.
    const ttl = job ? Math.max(d.defaultTtlMs, config.async.runDeadlineMs) : d.defaultTtlMs;
    return createRequestDeadline(job ? new Headers() : headers, nowMs, {
      defaultTtlMs: ttl,
      maxTtlMs: Math.max(d.maxTtlMs, ttl),
      attemptTimeoutMs: job ? Math.max(d.totalMs, config.async.runDeadlineMs) : d.totalMs,
      maxAttemptTimeoutMs: Math.max(d.maxTotalMs, config.async.runDeadlineMs),
    });
  }

  /**
   * Waits for a capacity lease. When no backend of the pool is usable the call does not queue blindly:
   * every breaker open → 503 with the earliest reopen; all cooling → wait only if the earliest cooling
   * ends within the TTL and the Retry-After bound, else 429.
   */
  async function schedule(
    s: Snapshot,
    poolId: string,
    requestId: string,
    context: CallContext,
    deadline: RequestDeadline,
    signal: AbortSignal,
  ): Promise<Lease> {
    const ids = memberIds(s.pools.get(poolId)!);
    if (ids.length > 0 && deps.health.usableCount(ids) === 0) {
      const views = ids.map((id) => deps.health.snapshot(id));
      const now = clock.now();
      const reopenMs = Math.max(1000, (deps.health.earliestReopenMs(ids) ?? now + 1000) - now);
      if (views.some((v) => v.state !== 'closed'))
        throw new GatewayError('GW_ERR_BACKEND_ALL_OPEN', { retryAfterMs: reopenMs });
      if (now + reopenMs >= deadline.expiresAtMs || reopenMs > s.config.resilience.retryAfter.maxMs)
        throw new GatewayError('GW_ERR_BACKEND_THROTTLED', { retryAfterMs: reopenMs });
    }
    const levels = s.config.scheduling.levels;
    return deps.gate.acquire({
      requestId,
      poolId,
      priority: Math.min(Math.max(1, context.priority), levels),
      userId: context.caller.userId,
      deadlineMs: deadline.expiresAtMs,
      signal,
      leaseTtlMs: context.asyncJobId !== undefined ? s.config.async.runDeadlineMs + 60_000 : undefined,
    });
  }

  /**
   * Dispatches over the route's pool, then its fallback routes in order when a pool is exhausted or
   * unusable (every breaker open, every backend cooling). Each route's pool is scheduled on its own: the
   * call holds a lease in the pool that serves it (`lease` is called to take one and returns whether the
   * call may go on; the caller releases the previous one).
   */
  async function dispatchWithFallbacks(
    s: Snapshot,
    route: RouteConfig,
    input: Omit<DispatchInput, 'route' | 'pool'>,
    summary: Mutable<CallSummary>,
    lease: (poolId: string) => Promise<void>,
  ): Promise<DispatchResult> {
    const attempts: AttemptRecord[] = [];
    const chain = [
      route,
      ...route.fallbacks.map((id) => s.router.byId(id)).filter((r): r is RouteConfig => r !== undefined),
    ];
    let lastError: unknown;
    for (const [i, current] of chain.entries()) {
      const pool = s.pools.get(current.pool)!;
      const model =
        i === 0
          ? (current.model ?? input.model)
          : (current.model ?? current.match.models?.find((m) => !m.endsWith('*')) ?? input.model);
      try {
        const queuedAt = clock.monotonicMs();
        await lease(pool.id);
        summary.queueWaitMs += clock.monotonicMs() - queuedAt;
        const result = await s.dispatcher.dispatch({ ...input, model, route: current, pool });
        summary.routeId = current.id;
        summary.attempts = [...attempts, ...result.attempts];
        return { ...result, attempts: summary.attempts };
      } catch (error) {
        lastError = error;
        attempts.push(...attemptsOf(error));
        summary.attempts = attempts;
        // Only an exhausted pool moves on to the fallback route; the caller's own errors do not.
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

  function respond(
    s: Snapshot,
    result: DispatchResult,
    target: RequestTarget,
    requestId: string,
    startMono: number,
    summary: Mutable<CallSummary>,
    callerSignal: AbortSignal,
    path: string,
    model: string | undefined,
    promptEstimate: () => number | undefined,
    onEnd: (usage: UsageReading) => void,
  ): GatewayResponse {
    const { response, backend } = result;
    const headers = downstreamHeaders(response.headers, s.stripResponse, false);
    const elapsed = clock.monotonicMs() - startMono;
    const overheadMs = Math.max(0, elapsed - result.backendWaitMs - summary.queueWaitMs);
    headers.set('x-gateway-request-id', requestId);
    headers.set('x-gateway-backend', backend.id);
    headers.set('x-gateway-attempts', String(result.attempts.length));
    headers.set('x-gateway-overhead-ms', overheadMs.toFixed(2));
    headers.append(
      'server-timing',
      `gateway;dur=${overheadMs.toFixed(2)}, queue;dur=${summary.queueWaitMs.toFixed(2)}, backend;dur=${result.backendWaitMs.toFixed(2)}`,
    );
    summary.backend = backend;
    summary.status = response.status;
    summary.ttfbMs = elapsed;
    summary.overheadMs = overheadMs;
    const contentType = headers.get('content-type');
    const sse = (contentType ?? '').startsWith('text/event-stream');
    summary.stream ||= sse;
    const meter = !s.config.usage.enabled
      ? undefined
      : createUsageTransform(detectUsageFormat(path, contentType), {
          stripUsageOnlyChunk: summary.includeUsageInjected && sse,
          estimator: deps.estimator,
          requestModel: model,
          estimatePromptTokens: promptEstimate,
        });
    // A body the gateway may shorten (the hidden usage chunk) cannot keep the backend's length.
    if (summary.includeUsageInjected && sse) headers.delete('content-length');
    let bytes = 0;
    const body = relayBody({
      source: response.body,
      errorKind: (error) => response.errorKind(error),
      sse,
      shape: target.shape,
      requestId,
      filter: meter,
      observe: (chunk) => {
        bytes += chunk.byteLength;
        summary.observeChunk?.(chunk);
      },
      abort: result.abort,
      callerSignal,
      idleTimeoutMs: result.idleTimeoutMs,
      now: () => clock.monotonicMs(),
      finish: (outcome) => {
        result.release();
        const usage = meter?.finish({ estimate: response.status < 400 }) ?? emptyUsageReading();
        summary.usage =
          usage.source === 'none' && response.status >= 400 ? emptyUsageReading(usage.servedModel) : usage;
        summary.outcome = outcome;
        summary.responseBytes = bytes;
        summary.totalMs = clock.monotonicMs() - startMono;
        onEnd(usage);
        // Records and telemetry are off the response path: the caller's last byte does not wait for them.
        if (deps.onCallEnd !== undefined) setImmediate(deps.onCallEnd, summary);
      },
    });
    return { status: response.status, headers, body };
  }

  function fail(error: unknown, requestId: string, startMono: number, summary: Mutable<CallSummary>): GatewayResponse {
    const response = errorResponse(error, requestId);
    const code = error instanceof GatewayError ? error.code : 'GW_ERR_INTERNAL';
    summary.status = response.status;
    summary.errorCode = code;
    summary.outcome =
      code === 'GW_ERR_REQUEST_CLIENT_CLOSED'
        ? 'caller_aborted'
        : response.status < 500 && code !== 'GW_ERR_BACKEND_THROTTLED'
          ? 'rejected'
          : 'failed';
    summary.totalMs = clock.monotonicMs() - startMono;
    const backendMs = summary.attempts.reduce((sum, a) => sum + a.durationMs, 0);
    response.headers.set(
      'x-gateway-overhead-ms',
      Math.max(0, summary.totalMs - backendMs - summary.queueWaitMs).toFixed(2),
    );
    if (summary.attempts.length > 0) response.headers.set('x-gateway-attempts', String(summary.attempts.length));
    deps.onCallEnd?.(summary);
    return response;
  }

  async function builtinEndpoint(
    method: string,
    path: string,
    s: Snapshot,
    requestId: string,
  ): Promise<GatewayResponse | undefined> {
    if (path === '/health/live') return jsonResponse(200, { status: 'live' }, requestId);
    if (path === '/health/ready') {
      const ids = s.config.backends.map((b) => b.id);
      const usable = deps.health.usableCount(ids);
      const readiness = (await deps.readiness?.()) ?? { ready: true, detail: {} };
      const ready = readiness.ready && usable > 0;
      return jsonResponse(
        ready ? 200 : 503,
        { status: ready ? 'ready' : 'not_ready', backends: { configured: ids.length, usable }, ...readiness.detail },
        requestId,
      );
    }
    if (method === 'GET' && (path === '/v1/models' || path === '/openai/v1/models')) {
      return jsonResponse(
        200,
        {
          object: 'list',
          data: s.router.models().map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })),
        },
        requestId,
      );
    }
    return undefined;
  }

  return { handle, execute };
}

const memberIdCache = new WeakMap<object, string[]>();

function memberIds(pool: GatewayConfig['pools'][number]): string[] {
  let ids = memberIdCache.get(pool);
  if (ids === undefined) {
    ids = pool.backends.map((m) => (typeof m === 'string' ? m : m.backend));
    memberIdCache.set(pool, ids);
  }
  return ids;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function isJson(contentType: string | null): boolean {
  return contentType !== null && /[/+]json\b/i.test(contentType);
}

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
  return value as Record<string, unknown>;
}

function credentialHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CALLER_CREDENTIAL_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** A small JSON response with the gateway's headers. */
export function jsonResponse(status: number, value: unknown, requestId: string): GatewayResponse {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const headers = new Headers({
    'content-type': 'application/json',
    'content-length': String(bytes.byteLength),
    'x-gateway-request-id': requestId,
    'cache-control': 'no-store',
  });
  return {
    status,
    headers,
    body: (async function* () {
      yield bytes;
    })(),
  };
}
