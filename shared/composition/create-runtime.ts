import type { GatewayConfig } from '../config/gateway-schema.js';
import type { Clock } from '../core/clock.js';
import { countInFlight } from '../core/status/in-flight-transport.js';
import type { StatusBoard } from '../core/status/status-board.js';
import type { CallSummary, Gateway } from '../core/gateway.js';
import { CallDrain, type DrainReport } from '../core/lifecycle/call-drain.js';
import type { HealthTracker } from '../core/resilience/health-tracker.js';
import type { SchedulerGate, SetTimer } from '../core/scheduling/scheduler-gate.js';
import type { AccessTokenVerifier } from '../ports/access-token-verifier.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { QuotaStore } from '../ports/quota-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { AffinityStore } from '../ports/affinity-store.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import type { CapacityLedger } from '../ports/capacity-ledger.js';
import type { JobService } from '../core/jobs/job-service.js';
import type { JobWorker } from '../core/jobs/job-worker.js';
import type { JobsApi } from '../core/jobs/jobs-api.js';
import type { JobSignals } from '../core/jobs/job-signals.js';
import { sweepExpiredJobs, type SweepReport } from '../core/jobs/sweep-expired-jobs.js';
import type { BackgroundWrites } from '../core/resilience/background-writes.js';
import type { CorruptReads } from '../core/resilience/corrupt-reads.js';
import type { CapacitySharingOptions, PoolShareStatus } from '../core/scheduling/capacity-share-agent.js';
import { createStaticCredentialProvider } from '../adapters/memory/static-credential-provider.js';
import { createUndiciBackendTransport } from '../adapters/undici/undici-backend-transport.js';
import { ConfigSync } from './config-sync.js';
import { runtimeStatusBoard } from './runtime-admin.js';
import { startInProcessJobs } from './in-process-jobs.js';
import { runtimeBase, runtimeHealth } from './runtime-base.js';
import { runtimeAdmission, runtimeGateway } from './runtime-gateway.js';
import { runtimeJobService, runtimeJobWorker } from './runtime-jobs.js';
import { startRuntimeMetrics } from './runtime-metrics.js';
import type { RuntimeParts } from './runtime-parts.js';
import { probeBackendsOnce, runtimeProbes } from './runtime-probes.js';
import { runtimeScheduling } from './runtime-scheduling.js';
import { closeRuntime, drainRuntime } from './runtime-shutdown.js';
import { runtimeUsage } from './runtime-usage.js';

/** Options of {@link createRuntime}: the adapters to use, defaulting to the in-process ones. */
export interface RuntimeOptions {
  /** The configuration, or a getter returning the current snapshot (hot reload). */
  readonly config: GatewayConfig | (() => GatewayConfig);
  /** Environment for secrets (`env` references in backend auth). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /**
   * Arms the scheduler's one wake-up timer (waiting TTLs, lease expiry). Default: `setTimeout`. Tests that
   * drive the engine on a fake clock pass timers that fire when they advance it.
   */
  readonly schedulerTimer?: SetTimer;
  readonly random?: () => number;
  readonly transport?: BackendTransport;
  readonly credentials?: CredentialProvider;
  readonly healthStore?: BackendHealthStore;
  readonly quotaStore?: QuotaStore;
  readonly tokenVerifier?: AccessTokenVerifier;
  readonly telemetry?: Telemetry;
  /** Where failed background writes are counted and reported (default: on `telemetry`). */
  readonly backgroundWrites?: BackgroundWrites;
  /** Where the storage adapters' corrupt reads are counted and reported (default: on `telemetry`). */
  readonly corruptReads?: CorruptReads;
  readonly ledger?: UsageLedger;
  /** Where usage records are exported besides the ledger (default: what `usage.eventHubs` configures). */
  readonly usageExporter?: UsageExporter;
  readonly estimator?: TokenEstimator;
  readonly affinityStore?: AffinityStore;
  readonly jobStore?: JobStore;
  readonly payloadStore?: PayloadStore;
  readonly jobQueue?: JobQueue;
  /**
   * Run async jobs in this process (the standalone host: an in-process runner polling the queue, and a
   * retention sweep on `async.sweepIntervalMs`). The Functions app passes false: its Service Bus trigger
   * runs jobs and a timer trigger sweeps.
   */
  readonly runJobsInProcess?: boolean;
  /**
   * Job executions already hold their capacity elsewhere (the Functions app's durable ledger lease), so
   * `gateway.execute` takes no in-process scheduler lease for them — one slot per job, not two.
   */
  readonly jobsHoldCapacity?: boolean;
  /**
   * Probe backends that have a `probe` on their own interval in this process (default true). The
   * Functions app passes false and probes from its `healthProbe` timer with {@link GatewayRuntime.probeBackends}.
   */
  readonly runProbesInProcess?: boolean;
  readonly onCallEnd?: (summary: CallSummary) => void;
  /** How often the scheduler's state is reported as metrics (default 10 s). */
  readonly metricsIntervalMs?: number;
  /** How often health is re-evaluated (cooling ends, breakers half-open) and capacity re-synced. */
  readonly healthTickMs?: number;
  /** The configuration's source, named on the status page (`gateway.config.json`, `embedded defaults`…). */
  readonly configSource?: string;
  /** How old the status page's "today" totals from the ledger may get before they are read again (60 s). */
  readonly statusLedgerMaxAgeMs?: number;
  /**
   * A capacity ledger shared with the deployment's other instances (standalone replicas: the Table
   * ledger; the Functions app: the durable entity). With it, and `scheduling.sharing.enabled`, each pool's
   * capacity in the scheduler is capped at this instance's grant (docs/scheduling.md).
   */
  readonly capacityLedger?: CapacityLedger;
  /** This instance's id in the capacity ledger (default: host name, process id and a random part). */
  readonly instanceId?: string;
  /** Host settings over `scheduling.sharing` (the Functions app's `LEDGER_REPORT_INTERVAL_MS`). */
  readonly sharingOverrides?: Partial<CapacitySharingOptions>;
  /** The storage account the stores use, named in `/health/ready` (Azure stores only). */
  readonly storage?: { readonly account: string; readonly endpoint: string };
}

/** A built engine with everything it owns, ready for a host. */
export interface GatewayRuntime {
  readonly gateway: Gateway;
  readonly health: HealthTracker;
  readonly gate: SchedulerGate;
  readonly telemetry: Telemetry;
  /** Quota settlements, affinity writes, ledger appends, job events: failures counted per kind and reported. */
  readonly backgroundWrites: BackgroundWrites;
  /** Corrupt records read back from storage, counted per store and reported (ADR 0039). */
  readonly corruptReads: CorruptReads;
  readonly ledger: UsageLedger;
  /** The usage exporter (Event Hubs), when one is configured. */
  readonly usageExporter: UsageExporter | undefined;
  /** The live operating picture behind the status page and the terminal line. */
  readonly status: StatusBoard;
  /** Async jobs: the service (submit, status, result, cancel), the worker the queue drives, the HTTP API. */
  readonly jobs: {
    readonly service: JobService;
    readonly worker: JobWorker;
    readonly api: JobsApi;
    readonly signals: JobSignals;
    sweep(): Promise<SweepReport>;
  };
  config(): GatewayConfig;
  /** Probes every backend that has a `probe` once, now, and records the results (timer triggers). */
  probeBackends(): Promise<void>;
  /** Capacity sharing through the ledger, per pool (`undefined` when this instance does not share). */
  capacitySharing(): readonly PoolShareStatus[] | undefined;
  /**
   * Shutdown drain: from now on new calls get 503 `GW_ERR_SERVICE_SHUTTING_DOWN` and readiness is false;
   * calls in flight may finish within `graceMs` (default `server.shutdownGraceMs`), then open answers are cut
   * (a stream ends with its terminal error event); in-process jobs still running then are handed back to
   * their queue. Call {@link close} after it.
   */
  drain(graceMs?: number): Promise<DrainReport>;
  /** Live calls in flight, from admission to the end of the answer (the drain's count). */
  inFlight(): number;
  close(): Promise<void>;
}

/**
 * The composition root: the one place that picks adapters and builds the engine. Hosts (standalone,
 * Functions, tests) call it and only translate requests.
 *
 * @example
 * const runtime = createRuntime({ config, env: process.env });
 * const response = await runtime.gateway.handle(request);
 */
export function createRuntime(options: RuntimeOptions): GatewayRuntime {
  const base = runtimeBase(options);
  const { config, clock, telemetry } = base;
  const { healthStore, health } = runtimeHealth(options, base);
  const status = runtimeStatusBoard(options, base);
  const scheduling = runtimeScheduling(options, base, status, health);
  const usage = runtimeUsage(options, base);
  const admission = runtimeAdmission(options, base);
  const jobs = runtimeJobService(options, base);
  const credentials = options.credentials ?? createStaticCredentialProvider(options.env ?? {});
  const probes = runtimeProbes(options, base, credentials, health);
  const sync = new ConfigSync({
    ...base,
    ...scheduling,
    health,
    status,
    prober: probes.prober,
    sharingOverrides: options.sharingOverrides,
    healthTickMs: options.healthTickMs ?? 250,
  });
  const parts: RuntimeParts = {
    ...base,
    ...usage,
    ...scheduling,
    ...probes,
    options,
    counted: countInFlight(options.transport ?? createUndiciBackendTransport()),
    credentials,
    healthStore,
    health,
    status,
    sync,
    jobs,
    callDrain: new CallDrain(),
    stopMetrics: startRuntimeMetrics(telemetry, scheduling, usage.usageExporter, options.metricsIntervalMs ?? 10_000),
  };
  const gateway = runtimeGateway(parts, admission);
  const worker = runtimeJobWorker(options, base, jobs.deps, gateway);
  const sweep = (): Promise<SweepReport> => sweepExpiredJobs(jobs.deps);
  const inProcess = (options.runJobsInProcess ?? true) ? startInProcessJobs(base, jobs.deps, worker, sweep) : undefined;
  let closing: Promise<void> | undefined;
  let draining: Promise<DrainReport> | undefined;
  return {
    ...usage,
    gateway,
    health,
    jobs: { service: jobs.service, worker, api: jobs.api, signals: jobs.deps.signals, sweep },
    gate: scheduling.gate,
    telemetry,
    backgroundWrites: base.backgroundWrites,
    corruptReads: base.corruptReads,
    status,
    config,
    probeBackends: () => probeBackendsOnce(config(), probes.httpProbe, health, clock),
    capacitySharing: () => scheduling.shareAgent?.status(),
    drain: (graceMs = config().server.shutdownGraceMs) => (draining ??= drainRuntime(parts, inProcess, graceMs)),
    inFlight: () => parts.callDrain.inFlight,
    close: () => (closing ??= closeRuntime(parts, inProcess)),
  };
}
