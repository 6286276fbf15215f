import type { GatewayConfig } from '../config/gateway-schema.js';
import type { AffinityStore } from '../ports/affinity-store.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { JobRecord } from '../ports/job-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import { isAdminPath, type AdminApi } from './admin/admin-api.js';
import type { Clock } from './clock.js';
import { GatewayError } from './errors/gateway-error.js';
import { endsWith, type CallDrain, type DrainEntry } from './lifecycle/call-drain.js';
import type { GatewayAdmission } from './governance/admission.js';
import type { GatewayRequest, GatewayResponse } from './http/gateway-request.js';
import type { JobsApi } from './jobs/jobs-api.js';
import type { JobService } from './jobs/job-service.js';
import type { JobExecution } from './jobs/job-worker.js';
import { createBackgroundWrites, type BackgroundWrites } from './resilience/background-writes.js';
import type { HealthTracker } from './resilience/health-tracker.js';
import type { SchedulerGate } from './scheduling/scheduler-gate.js';
import type { UsageReading } from './usage/usage-reading.js';
import { admitCaller, admitJob, isStandingRefusal, type CallContext } from './pipeline/admit.js';
import { builtinEndpoint, type Readiness } from './pipeline/builtin-endpoints.js';
import { startCall, type Call, type CallSummary } from './pipeline/call-summary.js';
import { dispatchWithFallbacks } from './pipeline/dispatch.js';
import { createEngineSnapshots, type EngineSnapshot } from './pipeline/engine-snapshot.js';
import { BodyBudget } from './pipeline/body-budget.js';
import { CallHoldings, createCallRecorder } from './pipeline/record.js';
import { reserve } from './pipeline/reserve.js';
import { PrefillRefusals, type StreamRecoveryHooks } from './pipeline/recover.js';
import { askForUsage, respond } from './pipeline/respond.js';
import { callerClosed, respondError } from './pipeline/respond-error.js';
import { billOnce } from './pipeline/bill-once.js';
import { isModelList, listModels } from './pipeline/model-list.js';
import { learnAffinity, route, type RoutedCall } from './pipeline/route.js';
import { BackendModelLists } from './routing/backend-model-lists.js';
import { CallLeases, orUpgrade, UPGRADE_TO_JOB } from './pipeline/schedule.js';
import { runsAsJob, submitJob, upgradeAfterMs } from './pipeline/schedule-job.js';

export type { CallSummary } from './pipeline/call-summary.js';
export { jsonResponse } from './http/json-response.js';

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
  /** The admin API (status, usage) at `ADMIN_BASE_PATH`, behind `authorizeAdmin`. */
  readonly admin?: AdminApi;
  /** Where each call's usage record goes (chargeback). */
  readonly ledger?: UsageLedger;
  /** Where each usage record is also exported (Event Hubs), when configured. */
  readonly usageExporter?: UsageExporter | undefined;
  /** Each call's usage event and metrics. */
  readonly telemetry?: Telemetry;
  /** Quota settlements, affinity writes and ledger appends after the answer: retried where safe, lost ones counted. */
  readonly backgroundWrites?: BackgroundWrites;
  /** Called once per call when it has fully ended (body relayed or error sent), after its record. Must not throw. */
  readonly onCallEnd?: (summary: CallSummary) => void;
  /** Estimates tokens a backend did not report (flagged `estimated` in the record). */
  readonly estimator?: TokenEstimator;
  /** Which backend holds which server-side state (Responses API, files, threads…). */
  readonly affinity: AffinityStore;
  /** Async jobs: the service that takes `x-gateway-async` calls and the job API under `/jobs`. */
  readonly jobs?: { readonly service: JobService; readonly api: JobsApi };
  /** Readiness beyond backends (stores reachable): `/health/ready` answers 503 when `ready` is false. */
  readonly readiness?: Readiness;
  /** Calls in flight, for the shutdown drain: once it begins, new calls get 503 and readiness turns false. */
  readonly drain?: CallDrain;
}

/** The engine: a web-standard request in, a response out. */
export interface Gateway {
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /**
   * Runs an admitted async job's request (the job worker's executor) through the same stages as a live
   * call, as the job's owner at the job's priority: its admit stage re-checks the stored owner's standing
   * instead of a credential, and rejects (a 4xx `GatewayError`) when the owner no longer stands, so the job
   * fails. The usage record carries the job id.
   */
  execute(
    request: GatewayRequest,
    job: JobRecord,
    options?: { readonly capacityHeld?: boolean },
  ): Promise<JobExecution>;
}

/**
 * Builds the engine. A call runs these stages, each a module of `shared/core/pipeline/`:
 * **admit** (identity → profile → rules → priority; 4xx here, nothing queued) → **route** (body, model,
 * route, affinity, allowlists) → **reserve** (quota) → **schedule** (a capacity lease by priority, or a
 * job) → **dispatch** (attempts and failover over the route's pool, then its fallbacks) → **respond**
 * (headers, usage tap, relay) → **record** (usage record, quota settle, lease release) when the body ends,
 * however it ends. Before admission: the built-in endpoints (`/health/*`), then the admin API and the job
 * API, which take their own credentials. After admission, `GET /v1/models` lists what the caller may use.
 *
 * @example
 * const gateway = createGateway({ config: () => config, transport, credentials, clock: systemClock,
 *   random: Math.random, health, admission, gate, affinity });
 * const response = await gateway.handle(request);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { clock, jobs } = deps;
  const snapshot = createEngineSnapshots(deps);
  const writes = deps.backgroundWrites ?? createBackgroundWrites({ telemetry: deps.telemetry });
  const recorder = createCallRecorder({ ...deps, backgroundWrites: writes });
  // Request bodies buffered across live calls; a job's run is bounded by the job queue's own limits instead.
  const bodies = new BodyBudget(() => deps.config().limits.maxBufferedBodyBytes);
  const prefillRefusals = new PrefillRefusals();
  const modelListDeps = { admission: deps.admission, modelLists: new BackendModelLists(deps) };

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const entry = deps.drain?.enter();
    const response = await serve(request, entry);
    return entry === undefined ? response : endsWith(response, entry);
  }

  async function serve(request: GatewayRequest, entry: DrainEntry | undefined): Promise<GatewayResponse> {
    const call = startCall(request, clock, entry?.signal);
    try {
      const s = snapshot();
      const own = await ownEndpoint(s, call);
      if (own !== undefined) return own;
      // Draining for shutdown: probes and admin are still answered above; a new call is told to go elsewhere.
      if (deps.drain?.draining === true) return closing(fail(SHUTTING_DOWN(), call));
      const context = await admitCaller(deps.admission, call);
      if (isModelList(request.method, call.url.pathname))
        return await listModels(modelListDeps, s, context.admission, call.requestId);
      if (jobs?.api.matches(call.url.pathname) === true)
        return (
          (await jobs.api.handle(request, { requester: context.caller, requestId: call.requestId })) ?? noRoute(call)
        );
      return await run(s, call, context);
    } catch (error) {
      return fail(error, call);
    }
  }

  async function execute(
    request: GatewayRequest,
    job: JobRecord,
    options: { readonly capacityHeld?: boolean } = {},
  ): Promise<JobExecution> {
    const call = startCall(request, clock);
    let context: CallContext;
    try {
      context = await admitJob(deps.admission, job, { capacityHeld: options.capacityHeld === true }, call);
    } catch (error) {
      // The owner no longer stands (suspended, key or profile gone…): recorded as a refused call, and thrown
      // so that the worker fails the job with this error rather than storing it as the job's result.
      fail(error, call);
      throw error;
    }
    let response: GatewayResponse;
    try {
      response = await run(snapshot(), call, context);
    } catch (error) {
      response = fail(error, call);
      if (isStandingRefusal(error)) throw error;
    }
    return { response, usage: () => call.summary.usage };
  }

  /** The stages after admission, the same for a live call and a job. */
  async function run(s: EngineSnapshot, call: Call, context: CallContext): Promise<GatewayResponse> {
    const holdings = new CallHoldings(writes);
    try {
      const bodyLease = (holdings.body = context.asyncJobId === undefined ? bodies.lease() : undefined);
      const routed = await route(deps, s, call, context, bodyLease);
      holdings.reservation = await reserve(deps.admission, context, routed.json);
      const upstream = askForUsage(s, call, routed);
      if (runsAsJob(jobs?.service, s, call, context)) return await handOff(holdings, s, call, context, routed);
      const upgradeAfter = upgradeAfterMs(jobs?.service, s, context, upstream.json);
      const leases = (holdings.leases = new CallLeases(deps, s, call, context, routed.deadline, upgradeAfter));
      const result = await orUpgrade(
        dispatchWithFallbacks(clock, s, call, routed, upstream, leases.take, { requeue: leases.requeue }),
      );
      if (result === UPGRADE_TO_JOB) return await handOff(holdings, s, call, context, routed, 0);
      const once = billOnce(deps, routed.target, call.request.method, routed.json, s.config.affinity.ttlMs);
      const observe = both(learnAffinity(deps.affinity, s, routed, call.request.method, result, writes), once?.observe);
      if (observe !== undefined) call.summary.observeChunk = observe;
      const recovery: StreamRecoveryHooks = {
        refusals: prefillRefusals,
        redispatch: (body, exclude, signal) =>
          dispatchWithFallbacks(clock, s, call, routed, jsonBody(body), leases.take, {
            excludeBackendIds: exclude,
            signal,
            requeue: leases.requeue,
          }),
      };
      const finish = (usage: UsageReading): void => {
        holdings.settle(result.response.status, usage);
        recorder.recordLater(call.summary);
      };
      const billed = (usage: UsageReading): void => {
        if (once === undefined) return finish(usage);
        // A Responses API object is billed once: the record and the quota carry what billOnce decides.
        void once.billable(usage).then((decided) => {
          call.summary.usage = decided;
          finish(decided);
        });
      };
      return respond(deps, s, call, routed, upstream, result, billed, recovery);
    } catch (error) {
      holdings.releaseAll();
      throw callerClosed(error, call.request.signal);
    }
  }

  /** The call becomes an async job: answered inline if it finishes within `syncWaitMs`, else 202. */
  async function handOff(
    holdings: CallHoldings,
    s: EngineSnapshot,
    call: Call,
    context: CallContext,
    routed: RoutedCall,
    syncWaitMs?: number,
  ): Promise<GatewayResponse> {
    const answer = await submitJob(jobs!.service, s, call, context, routed, syncWaitMs);
    holdings.chargeForJob();
    return answer;
  }

  /** The built-in endpoints, the admin API and an admin's view of jobs: they take no caller credential. */
  async function ownEndpoint(s: EngineSnapshot, call: Call): Promise<GatewayResponse | undefined> {
    const { request, url, requestId } = call;
    const builtin = await builtinEndpoint(
      { health: deps.health, readiness: deps.readiness, draining: () => deps.drain?.draining === true },
      s,
      url.pathname,
      requestId,
    );
    if (builtin !== undefined) return builtin;
    if (isAdminPath(url.pathname)) {
      if (deps.admin?.isPublic(url.pathname) !== true) await deps.admission.authorizeAdmin(request.headers);
      if (deps.admin !== undefined) return await deps.admin.handle(request, { requestId });
      throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
        message: `No admin endpoint ${request.method} ${url.pathname}.`,
      });
    }
    if (jobs?.api.matches(url.pathname) === true && request.headers.has('x-gateway-admin-key')) {
      const admin = await deps.admission.authorizeAdmin(request.headers);
      return (await jobs.api.handle(request, { requester: admin, requestId })) ?? noRoute(call);
    }
    return undefined;
  }

  function fail(error: unknown, call: Call): GatewayResponse {
    const response = respondError(clock, error, call);
    recorder.record(call.summary);
    return response;
  }

  return { handle, execute };
}

const encoder = new TextEncoder();

/** A recovery request's body, as the dispatcher sends it. */
function jsonBody(json: Record<string, unknown>): { body: Uint8Array; json: Record<string, unknown> } {
  return { body: encoder.encode(JSON.stringify(json)), json };
}

/** One chunk observer out of two optional ones. */
function both(
  a: ((chunk: Uint8Array) => void) | undefined,
  b: ((chunk: Uint8Array) => void) | undefined,
): ((chunk: Uint8Array) => void) | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (chunk) => {
    a(chunk);
    b(chunk);
  };
}

const SHUTTING_DOWN = (): GatewayError =>
  new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN', {
    retryAfterMs: 1_000,
    message: 'The gateway is shutting down; send the call again (another instance will take it).',
  });

/** The answer with `connection: close`: the caller's client opens a new connection, to another instance. */
function closing(response: GatewayResponse): GatewayResponse {
  response.headers.set('connection', 'close');
  return response;
}

function noRoute(call: Call): never {
  throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
    message: `No route matches ${call.request.method} ${call.url.pathname}.`,
  });
}
