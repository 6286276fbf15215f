import type { GatewayConfig } from '../config/gateway-schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createAdminApi } from '../core/admin/admin-api.js';
import { countInFlight } from '../core/status/in-flight-transport.js';
import { LedgerToday } from '../core/status/ledger-today.js';
import { StatusBoard, type StatusSources } from '../core/status/status-board.js';
import { createGateway, type CallSummary, type Gateway } from '../core/gateway.js';
import { createAdmission } from '../core/governance/admission.js';
import { syncCapacity } from '../core/pipeline/capacity-sync.js';
import { CallDrain, type DrainReport } from '../core/lifecycle/call-drain.js';
import { HealthTracker } from '../core/resilience/health-tracker.js';
import { PriorityScheduler } from '../core/scheduling/priority-scheduler.js';
import { SchedulerGate, type SetTimer } from '../core/scheduling/scheduler-gate.js';
import { reportSchedulerMetrics, reportSharingMetrics } from '../core/scheduling/scheduler-metrics.js';
import type { AccessTokenVerifier } from '../ports/access-token-verifier.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { QuotaStore } from '../ports/quota-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import { createConfiguredUsageExporter } from './usage-export.js';
import { reportUsageExportMetrics } from '../core/usage/usage-export-metrics.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { AffinityStore } from '../ports/affinity-store.js';
import { MemoryAffinityStore } from '../adapters/memory/memory-affinity-store.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import { createInProcessJobRunner, type InProcessJobRunner } from '../core/jobs/in-process-job-runner.js';
import { createJobService, type JobService } from '../core/jobs/job-service.js';
import { createJobWorker, type JobWorker } from '../core/jobs/job-worker.js';
import { createJobsApi, type JobsApi } from '../core/jobs/jobs-api.js';
import { JobSignals } from '../core/jobs/job-signals.js';
import { QueuedBodyBudget } from '../core/jobs/queued-body-budget.js';
import { sweepExpiredJobs, type SweepReport } from '../core/jobs/sweep-expired-jobs.js';
import { MemoryJobQueue } from '../adapters/memory/memory-job-queue.js';
import { MemoryJobStore } from '../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../adapters/memory/memory-payload-store.js';
import { createNdjsonUsageLedger } from '../adapters/file/ndjson-usage-ledger.js';
import { createMemoryUsageLedger } from '../adapters/memory/memory-usage-ledger.js';
import { createTiktokenTokenEstimator } from '../adapters/tokenizer/tiktoken-token-estimator.js';
import {
  createJoseAccessTokenVerifier,
  entraVerifierOptions,
} from '../adapters/identity/jose-access-token-verifier.js';
import { createLogTelemetry } from '../adapters/log/log-telemetry.js';
import { createBackgroundWrites, type BackgroundWrites } from '../core/resilience/background-writes.js';
import { createCorruptReads, type CorruptReads } from '../core/resilience/corrupt-reads.js';
import { MemoryBackendHealthStore } from '../adapters/memory/memory-backend-health-store.js';
import { MemoryQuotaStore } from '../adapters/memory/memory-quota-store.js';
import { createStaticCredentialProvider } from '../adapters/memory/static-credential-provider.js';
import { createUndiciBackendTransport } from '../adapters/undici/undici-backend-transport.js';
import { createHttpProbe, probeTargets } from '../adapters/undici/http-probe.js';
import { HealthProber } from '../core/resilience/health-prober.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CapacityLedger } from '../ports/capacity-ledger.js';
import {
  CapacityShareAgent,
  poolDemandOf,
  type CapacitySharingOptions,
  type PoolShareStatus,
} from '../core/scheduling/capacity-share-agent.js';
import type { CapacityTarget } from '../core/pipeline/capacity-sync.js';

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
  const config =
    typeof options.config === 'function'
      ? options.config
      : (
          (c) => () =>
            c
        )(options.config);
  const initial = config();
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const counted = countInFlight(options.transport ?? createUndiciBackendTransport());
  const transport = counted.transport;
  const telemetry = options.telemetry ?? createLogTelemetry({ kinds: new Set(['exception']) });
  const backgroundWrites = options.backgroundWrites ?? createBackgroundWrites({ telemetry });
  const corruptReads = options.corruptReads ?? createCorruptReads({ telemetry });
  const ledger =
    options.ledger ??
    (initial.usage.ledger.kind === 'ndjson'
      ? createNdjsonUsageLedger({
          path: initial.usage.ledger.path,
          flushIntervalMs: initial.usage.ledger.flushIntervalMs,
          onError: (error) => backgroundWrites.failed('usage-ledger', error),
        })
      : createMemoryUsageLedger({ maxRecords: initial.usage.ledger.maxRecords }));
  const usageExporter =
    options.usageExporter ??
    createConfiguredUsageExporter(initial.usage.eventHubs, {
      env: options.env ?? {},
      now: () => clock.now(),
      onError: (error) => telemetry.exception(error, { component: 'usage-export' }),
    });
  const estimator = options.estimator ?? createTiktokenTokenEstimator();
  const healthStore = options.healthStore ?? new MemoryBackendHealthStore();
  const health = new HealthTracker(
    {
      store: healthStore,
      clock,
      onError: (error, context) =>
        telemetry.exception(error, {
          component: 'health',
          operation: context.operation,
          backend: context.backendId ?? '',
        }),
    },
    { ...initial.resilience.health, breaker: initial.resilience.breaker },
  );
  const status = new StatusBoard({
    clock,
    config,
    configSource: options.configSource ?? 'configuration',
    instance: `${hostname()}:${process.pid}`,
  });
  const sharing: { agent?: CapacityShareAgent } = {};
  const gate = new SchedulerGate({
    scheduler: new PriorityScheduler({ clock, options: initial.scheduling }),
    clock,
    setTimer: options.schedulerTimer,
    onLeaseExpired: (lease) => telemetry.event('LeaseExpired', { poolId: lease.poolId, requestId: lease.requestId }),
    onGrant: (lease) => status.recordGrant(lease),
    onChange: () => sharing.agent?.poke(),
  });
  // With a shared ledger, each pool's capacity is this instance's grant (never more than it sees).
  const capacityTarget: CapacityTarget = {
    setCapacity: (poolId, groups) => gate.setCapacity(poolId, sharing.agent?.cap(poolId, groups) ?? groups),
  };
  const governance = initial.governance;
  const verifier =
    options.tokenVerifier ??
    (governance.identity.entra.enabled
      ? createJoseAccessTokenVerifier(entraVerifierOptions(governance.identity.entra))
      : undefined);
  const admission = createAdmission({
    governance: () => config().governance,
    verifier,
    quotas: options.quotaStore ?? new MemoryQuotaStore(),
    clock,
  });

  const jobDeps = {
    jobs: options.jobStore ?? new MemoryJobStore(),
    payloads: options.payloadStore ?? new MemoryPayloadStore(),
    queue: options.jobQueue ?? new MemoryJobQueue({ clock, maxDeliveries: initial.async.maxDeliveries }),
    clock,
    signals: new JobSignals(),
  };
  // Where jobs wait in this process, their request bodies are bounded per caller and in total (read per job).
  const queuedBodies =
    (options.runJobsInProcess ?? true)
      ? new QueuedBodyBudget(clock, () => ({
          totalBytes: config().async.maxQueuedBodyBytes,
          perCallerBytes: config().async.maxQueuedBodyBytesPerCaller,
        }))
      : undefined;
  if (queuedBodies !== undefined) jobDeps.signals.onFinished((job) => queuedBodies.finished(job.id));
  // A getter: the job deadlines and waits in force when a job is submitted apply to it (hot reload).
  const jobService = createJobService({ ...jobDeps, queuedBodies }, () => ({
    syncWaitMs: config().async.syncWaitMs,
    runDeadlineMs: config().async.runDeadlineMs,
    retentionMs: config().async.retentionMs,
    // Jobs run in another process when this one does not run them: poll for the inline answer.
    pollStoreWhileWaiting: !(options.runJobsInProcess ?? true),
  }));
  const jobsApi = createJobsApi(jobService);

  const credentials = options.credentials ?? createStaticCredentialProvider(options.env ?? {});
  const httpProbe = createHttpProbe(credentials);
  const prober = new HealthProber(
    {
      probe: httpProbe,
      timers: globalThis,
      clock,
      sink: health,
      onError: (error: unknown) => telemetry.exception(error, { component: 'health-probe' }),
    },
    probeTargets(initial.backends, initial.resilience.probe),
  );
  if (options.runProbesInProcess ?? true) prober.start();

  if (options.capacityLedger !== undefined && initial.scheduling.sharing.enabled) {
    sharing.agent = new CapacityShareAgent(
      {
        ledger: options.capacityLedger,
        clock,
        instanceId: options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
        observe: () => poolDemandOf(gate.stats()),
        resync: () => syncCapacity(config(), health, capacityTarget),
        onError: (error, poolId) => telemetry.exception(error, { component: 'capacity-ledger', pool: poolId }),
      },
      { ...initial.scheduling.sharing, ...options.sharingOverrides },
    );
  }

  // Capacity follows health: a breaker closing or cooling ending grants waiting requests in priority order.
  let syncedConfig: GatewayConfig | undefined;
  const resync = (): void => {
    const current = config();
    if (current !== syncedConfig) {
      health.setOptions({ ...current.resilience.health, breaker: current.resilience.breaker });
      try {
        gate.scheduler.setOptions(current.scheduling);
      } catch (error) {
        telemetry.exception(error, { component: 'scheduler', operation: 'reload' });
      }
      sharing.agent?.setOptions({ ...current.scheduling.sharing, ...options.sharingOverrides });
      health.retain(current.backends.map((b) => b.id));
      prober.setTargets(probeTargets(current.backends, current.resilience.probe));
      syncedConfig = current;
    }
    syncCapacity(current, health, capacityTarget);
  };
  resync();
  const unsubscribe = health.onChange(() => syncCapacity(config(), health, capacityTarget));
  const ticker = setInterval(() => {
    health.tick(clock.now());
    status.observeHealth(health);
    resync();
  }, options.healthTickMs ?? 250);
  ticker.unref();
  const metricsTimer = setInterval(() => {
    reportSchedulerMetrics(telemetry, gate.stats());
    if (usageExporter !== undefined) reportUsageExportMetrics(telemetry, usageExporter.stats());
    reportSharingMetrics(telemetry, sharing.agent?.status() ?? []);
  }, options.metricsIntervalMs ?? 10_000);
  metricsTimer.unref();

  const statusSources: StatusSources = {
    health,
    scheduler: () => gate.stats(),
    inFlight: counted.inFlight,
    exports: () => (usageExporter === undefined ? [] : [usageExporter.stats()]),
    today: new LedgerToday({
      ledger,
      clock,
      pricing: () => config().usage,
      maxAgeMs: options.statusLedgerMaxAgeMs,
      onError: (error) => telemetry.exception(error, { component: 'status-ledger' }),
    }),
  };
  const callDrain = new CallDrain();
  const gateway = createGateway({
    drain: callDrain,
    config: () => {
      const current = config();
      if (current !== syncedConfig) resync();
      return current;
    },
    transport,
    credentials,
    clock,
    random,
    health,
    admission,
    gate,
    estimator,
    affinity: options.affinityStore ?? new MemoryAffinityStore({ clock, maxEntries: initial.affinity.maxEntries }),
    jobs: { service: jobService, api: jobsApi },
    admin: createAdminApi({
      config,
      health,
      gate,
      ledger,
      clock,
      status: { board: status, sources: statusSources },
      capacitySharing: () => sharing.agent?.status(),
    }),
    // Ready = the configuration loaded (it did, or nothing would run), at least one backend usable (the
    // engine checks) and the shared health store answering within 2 s.
    readiness: async () => {
      const ids = config().backends.map((b) => b.id);
      const account = options.storage === undefined ? {} : { storage: options.storage };
      try {
        await withTimeout(healthStore.read(ids.slice(0, 1)), 2_000);
        return { ready: true, detail: { stores: { health: 'ok', ...account } } };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { ready: false, detail: { stores: { health: `unreachable: ${reason}`, ...account } } };
      }
    },
    ledger,
    usageExporter,
    telemetry,
    backgroundWrites,
    onCallEnd: (summary) => {
      status.recordCall(summary);
      options.onCallEnd?.(summary);
    },
  });
  const worker = createJobWorker(
    {
      ...jobDeps,
      execute: (request, job) => gateway.execute(request, job, { capacityHeld: options.jobsHoldCapacity ?? false }),
      onAttemptError: (error, job) => telemetry.exception(error, { component: 'job-worker', jobId: job.id }),
    },
    {
      maxDeliveries: initial.async.maxDeliveries,
      leaseMs: initial.async.visibilityTimeoutMs,
      retryBackoffMs: initial.async.retryBackoffMs,
    },
  );
  const sweep = (): Promise<SweepReport> => sweepExpiredJobs(jobDeps);
  let closing: Promise<void> | undefined;
  let draining: Promise<DrainReport> | undefined;
  let runner: InProcessJobRunner | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  if (options.runJobsInProcess ?? true) {
    runner = createInProcessJobRunner({
      queue: jobDeps.queue,
      worker,
      signals: jobDeps.signals,
      concurrency: initial.async.workerConcurrency,
      visibilityTimeoutMs: initial.async.visibilityTimeoutMs,
      pollIntervalMs: initial.async.pollIntervalMs,
      onError: (error) => telemetry.exception(error, { component: 'job-runner' }),
    });
    runner.start();
    sweeper = setInterval(
      () => void sweep().catch((error: unknown) => telemetry.exception(error, { component: 'job-sweep' })),
      initial.async.sweepIntervalMs,
    );
    sweeper.unref();
  }

  return {
    gateway,
    health,
    jobs: { service: jobService, worker, api: jobsApi, signals: jobDeps.signals, sweep },
    gate,
    telemetry,
    backgroundWrites,
    corruptReads,
    ledger,
    usageExporter,
    status,
    config,
    probeBackends: async () => {
      await Promise.all(
        probeTargets(config().backends, config().resilience.probe).map(async (target) => {
          const started = clock.monotonicMs();
          try {
            const { status, latencyMs } = await httpProbe(target, AbortSignal.timeout(target.probe.timeoutMs));
            const ok =
              target.probe.expectStatus.length === 0
                ? status >= 200 && status < 300
                : target.probe.expectStatus.includes(status);
            health.recordProbe(target.id, { ok, latencyMs, status });
          } catch {
            health.recordProbe(target.id, { ok: false, latencyMs: clock.monotonicMs() - started });
          }
        }),
      );
      await health.flush();
    },
    capacitySharing: () => sharing.agent?.status(),
    drain: (graceMs = config().server.shutdownGraceMs) => (draining ??= drainAll(graceMs)),
    close: () => (closing ??= closeAll()),
  };

  async function drainAll(graceMs: number): Promise<DrainReport> {
    const [report] = await Promise.all([callDrain.drain(graceMs), runner?.stop({ graceMs })]);
    telemetry.event('GatewayDrained', { ...report, graceMs });
    return report;
  }

  async function closeAll(): Promise<void> {
    clearInterval(ticker);
    clearInterval(metricsTimer);
    prober.stop();
    await httpProbe.close();
    if (sweeper !== undefined) clearInterval(sweeper);
    await runner?.stop({ graceMs: 1_000 });
    unsubscribe();
    // Leaving the ledger gives this instance's share back to the others at once (bounded: storage may be down).
    await withTimeout(sharing.agent?.close() ?? Promise.resolve(), 2_000).catch((error: unknown) =>
      telemetry.exception(error, { component: 'capacity-ledger', operation: 'leave' }),
    );
    gate.dispose();
    await health.flush();
    await transport.close();
    // Calls that ended record off the response path (setImmediate); one turn of the immediate queue runs
    // every record scheduled so far, so the last calls' records reach the ledger before it closes.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await ledger.close();
    await usageExporter?.close();
    await telemetry.flush();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
