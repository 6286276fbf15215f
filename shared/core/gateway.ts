import type { GatewayConfig } from '../config/gateway-schema.js';
import type { AffinityStore } from '../ports/affinity-store.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { JobRecord } from '../ports/job-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import type { AdminApi } from './admin/admin-api.js';
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
import { admitCaller, admitJob, isStandingRefusal, type CallContext } from './pipeline/admit.js';
import type { Readiness } from './pipeline/builtin-endpoints.js';
import { startCall, type Call, type CallSummary } from './pipeline/call-summary.js';
import { createEngineSnapshots } from './pipeline/engine-snapshot.js';
import { BodyBudget } from './pipeline/body-budget.js';
import { createCallRecorder } from './pipeline/record.js';
import { PrefillRefusals } from './pipeline/recover.js';
import { respondError } from './pipeline/respond-error.js';
import { isModelList, listModels } from './pipeline/model-list.js';
import { noRoute } from './pipeline/no-route.js';
import { ownEndpoint } from './pipeline/own-endpoint.js';
import { runCall, type StageDeps } from './pipeline/run-call.js';
import { BackendModelLists } from './routing/backend-model-lists.js';

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
  execute(request: GatewayRequest, job: JobRecord, options?: ExecuteOptions): Promise<JobExecution>;
}

/** Options of {@link Gateway.execute}. */
export interface ExecuteOptions {
  /** The job worker already holds the job's capacity lease: the schedule stage takes none. */
  readonly capacityHeld?: boolean;
}

/**
 * Builds the engine. A call runs these stages, each a module of `shared/core/pipeline/`:
 * **admit** (identity → profile → rules → priority; 4xx here, nothing queued) → **route** (body, model,
 * route, affinity, allowlists) → **reserve** (quota) → **schedule** (a capacity lease by priority, or a
 * job) → **dispatch** (attempts and failover over the route's pool, then its fallbacks) → **respond**
 * (headers, usage tap, relay) → **record** (usage record, quota settle, lease release) when the body ends,
 * however it ends — all in `pipeline/run-call.ts`, the same for a live call and a job ({@link Gateway.execute}).
 * Before admission: the built-in endpoints (`/health/*`), then the admin API and the job API, which take their
 * own credentials (`pipeline/own-endpoint.ts`). After admission, `GET /v1/models` lists what the caller may use.
 *
 * @example
 * const gateway = createGateway({ config: () => config, transport, credentials, clock: systemClock,
 *   random: Math.random, health, admission, gate, affinity });
 * const response = await gateway.handle(request);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { clock } = deps;
  const snapshot = createEngineSnapshots(deps);
  const stages = stageDepsOf(deps);
  const modelListDeps = { admission: deps.admission, modelLists: new BackendModelLists(deps) };

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const entry = deps.drain?.enter();
    if (entry === undefined) return serve(request, startCall(request, clock));
    const call = startUnderDrain(request, clock, entry);
    return endsWith(await serve(request, call), { signal: entry.signal, end: () => ended(entry, call) });
  }

  async function serve(request: GatewayRequest, call: Call): Promise<GatewayResponse> {
    try {
      const s = snapshot();
      const own = await ownEndpoint(deps, s, call);
      if (own !== undefined) return own;
      // Draining for shutdown: probes and admin are still answered above; a new call is told to go elsewhere.
      if (deps.drain?.draining === true) return closing(fail(SHUTTING_DOWN(), call));
      const context = await admitCaller(deps.admission, call);
      if (isModelList(request.method, call.url.pathname))
        return await listModels(modelListDeps, s, context.admission, call.requestId);
      if (deps.jobs?.api.matches(call.url.pathname) === true) {
        const requester = { requester: context.caller, requestId: call.requestId };
        return (await deps.jobs.api.handle(request, requester)) ?? noRoute(call);
      }
      return await runCall(stages, s, call, context);
    } catch (error) {
      // The drain's grace period ended before the backend answered: the gateway cut the call, not the backend.
      if (call.shutdown?.aborted === true) return closing(cutByShutdown(clock, stages, call));
      return fail(error, call);
    }
  }

  async function execute(request: GatewayRequest, job: JobRecord, options: ExecuteOptions = {}): Promise<JobExecution> {
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
      response = await runCall(stages, snapshot(), call, context);
    } catch (error) {
      response = fail(error, call);
      if (isStandingRefusal(error)) throw error;
    }
    return { response, usage: () => call.summary.usage };
  }

  function fail(error: unknown, call: Call): GatewayResponse {
    const response = respondError(clock, error, call);
    stages.recorder.record(call.summary);
    return response;
  }

  return { handle, execute };
}

/** What the stages after admission share across calls: the deps, plus the engine's own per-engine state. */
function stageDepsOf(deps: GatewayDeps): StageDeps {
  const writes = deps.backgroundWrites ?? createBackgroundWrites({ telemetry: deps.telemetry });
  return {
    ...deps,
    jobService: deps.jobs?.service,
    writes,
    recorder: createCallRecorder({ ...deps, backgroundWrites: writes }),
    // Request bodies buffered across live calls; a job's run is bounded by the job queue's own limits instead.
    bodies: new BodyBudget(() => deps.config().limits.maxBufferedBodyBytes),
    prefillRefusals: new PrefillRefusals(),
  };
}

const SHUTTING_DOWN = (): GatewayError =>
  new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN', {
    retryAfterMs: 1_000,
    message: 'The gateway is shutting down; send the call again (another instance will take it).',
  });

/** 503 `GW_ERR_SERVICE_SHUTTING_DOWN` for a call cut before its headers; recorded as cut by the shutdown. */
function cutByShutdown(clock: Clock, stages: StageDeps, call: Call): GatewayResponse {
  const response = respondError(clock, SHUTTING_DOWN(), call);
  call.summary.outcome = 'cut';
  call.summary.cutReason = 'shutdown';
  stages.recorder.record(call.summary);
  return response;
}

/** The answer with `connection: close`: the caller's client opens a new connection, to another instance. */
function closing(response: GatewayResponse): GatewayResponse {
  response.headers.set('connection', 'close');
  return response;
}

/** Starts a live call under the drain; a call that cannot start (its URL is not absolute) leaves the drain at once. */
function startUnderDrain(request: GatewayRequest, clock: Clock, entry: DrainEntry): Call {
  try {
    return startCall(request, clock, entry.signal);
  } catch (error) {
    entry.end();
    throw error;
  }
}

/** A live call under the drain has ended: it lets go of the caller's and the drain's signals, then leaves the drain. */
function ended(entry: DrainEntry, call: Call): void {
  call.ended?.();
  entry.end();
}
