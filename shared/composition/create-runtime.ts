import type { GatewayConfig } from '../config/gateway-schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createGateway, jsonResponse, type CallSummary, type Gateway } from '../core/gateway.js';
import { createAdmission } from '../core/governance/admission.js';
import { syncCapacity } from '../core/pipeline/capacity-sync.js';
import { HealthTracker } from '../core/resilience/health-tracker.js';
import { PriorityScheduler } from '../core/scheduling/priority-scheduler.js';
import { SchedulerGate } from '../core/scheduling/scheduler-gate.js';
import type { AccessTokenVerifier } from '../ports/access-token-verifier.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { QuotaStore } from '../ports/quota-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { TokenEstimator } from '../ports/token-estimator.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import { aggregateUsage, type ChargebackDimension } from '../core/usage/chargeback.js';
import { usageRecordOf } from '../core/usage/record-call.js';
import { reportUsage } from '../core/usage/usage-telemetry.js';
import { GatewayError } from '../core/errors/gateway-error.js';
import { createNdjsonUsageLedger } from '../adapters/file/ndjson-usage-ledger.js';
import { createMemoryUsageLedger } from '../adapters/memory/memory-usage-ledger.js';
import { createTiktokenTokenEstimator } from '../adapters/tokenizer/tiktoken-token-estimator.js';
import { createJoseAccessTokenVerifier, entraVerifierOptions } from '../adapters/identity/jose-access-token-verifier.js';
import { createLogTelemetry } from '../adapters/log/log-telemetry.js';
import { MemoryBackendHealthStore } from '../adapters/memory/memory-backend-health-store.js';
import { MemoryQuotaStore } from '../adapters/memory/memory-quota-store.js';
import { createStaticCredentialProvider } from '../adapters/memory/static-credential-provider.js';
import { createUndiciBackendTransport } from '../adapters/undici/undici-backend-transport.js';

/** Options of {@link createRuntime}: the adapters to use, defaulting to the in-process ones. */
export interface RuntimeOptions {
  /** The configuration, or a getter returning the current snapshot (hot reload). */
  readonly config: GatewayConfig | (() => GatewayConfig);
  /** Environment for secrets (`env` references in backend auth). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly transport?: BackendTransport;
  readonly credentials?: CredentialProvider;
  readonly healthStore?: BackendHealthStore;
  readonly quotaStore?: QuotaStore;
  readonly tokenVerifier?: AccessTokenVerifier;
  readonly telemetry?: Telemetry;
  readonly ledger?: UsageLedger;
  readonly estimator?: TokenEstimator;
  readonly onCallEnd?: (summary: CallSummary) => void;
  /** How often health is re-evaluated (cooling ends, breakers half-open) and capacity re-synced. */
  readonly healthTickMs?: number;
}

/** A built engine with everything it owns, ready for a host. */
export interface GatewayRuntime {
  readonly gateway: Gateway;
  readonly health: HealthTracker;
  readonly gate: SchedulerGate;
  readonly telemetry: Telemetry;
  readonly ledger: UsageLedger;
  config(): GatewayConfig;
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
  const config = typeof options.config === 'function' ? options.config : ((c) => () => c)(options.config);
  const initial = config();
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const transport = options.transport ?? createUndiciBackendTransport();
  const telemetry = options.telemetry ?? createLogTelemetry({ kinds: new Set(['exception']) });
  const ledger =
    options.ledger ??
    (initial.usage.ledger.kind === 'ndjson'
      ? createNdjsonUsageLedger({ path: initial.usage.ledger.path, flushIntervalMs: initial.usage.ledger.flushIntervalMs, onError: (error) => telemetry.exception(error, { component: 'usage-ledger' }) })
      : createMemoryUsageLedger({ maxRecords: initial.usage.ledger.maxRecords }));
  const estimator = options.estimator ?? createTiktokenTokenEstimator();
  const health = new HealthTracker(
    {
      store: options.healthStore ?? new MemoryBackendHealthStore(),
      clock,
      onError: (error, context) => telemetry.exception(error, { component: 'health', operation: context.operation, backend: context.backendId ?? '' }),
    },
    { ...initial.resilience.health, breaker: initial.resilience.breaker },
  );
  const gate = new SchedulerGate({
    scheduler: new PriorityScheduler({ clock, options: initial.scheduling }),
    clock,
    onLeaseExpired: (lease) => telemetry.event('LeaseExpired', { poolId: lease.poolId, requestId: lease.requestId }),
  });
  const governance = initial.governance;
  const verifier = options.tokenVerifier ?? (governance.identity.entra.enabled ? createJoseAccessTokenVerifier(entraVerifierOptions(governance.identity.entra)) : undefined);
  const admission = createAdmission({ governance: () => config().governance, verifier, quotas: options.quotaStore ?? new MemoryQuotaStore(), clock });

  // Capacity follows health: a breaker closing or cooling ending grants waiting requests in priority order.
  let syncedConfig: GatewayConfig | undefined;
  const resync = (): void => {
    const current = config();
    if (current !== syncedConfig) {
      health.setOptions({ ...current.resilience.health, breaker: current.resilience.breaker });
      health.retain(current.backends.map((b) => b.id));
      syncedConfig = current;
    }
    syncCapacity(current, health, gate);
  };
  resync();
  const unsubscribe = health.onChange(() => syncCapacity(config(), health, gate));
  const ticker = setInterval(() => {
    health.tick(clock.now());
    resync();
  }, options.healthTickMs ?? 250);
  ticker.unref();

  const gateway = createGateway({
    config: () => {
      const current = config();
      if (current !== syncedConfig) resync();
      return current;
    },
    transport,
    credentials: options.credentials ?? createStaticCredentialProvider(options.env ?? {}),
    clock,
    random,
    health,
    admission,
    gate,
    estimator,
    admin: async (request, path) => {
      if (request.method === 'GET' && path === '/admin/usage') {
        const query = new URL(request.url).searchParams;
        const by = (query.get('by') ?? 'user') as ChargebackDimension;
        if (!['user', 'tier', 'model', 'backend', 'group', 'profile', 'app'].includes(by)) throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', { message: 'by must be one of user, tier, model, backend, group, profile, app.', param: 'by' });
        const toMs = parseTime(query.get('to'), clock.now());
        const fromMs = parseTime(query.get('from'), toMs - 86_400_000);
        const records = [];
        for await (const record of ledger.query({ fromMs, toMs, userId: query.get('user') ?? undefined })) records.push(record);
        return jsonResponse(200, { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), by, rows: aggregateUsage(records, { by, prices: config().usage.prices }) }, '');
      }
      if (request.method === 'GET' && path === '/admin/status') {
        const current = config();
        return jsonResponse(200, {
          backends: current.backends.map((b) => ({ id: b.id, group: b.group, ...health.snapshot(b.id) })),
          scheduler: gate.stats(),
        }, '');
      }
      return undefined;
    },
    onCallEnd: (summary) => {
      const record = usageRecordOf(summary, clock);
      ledger.append(record).catch((error: unknown) => telemetry.exception(error, { component: 'usage-ledger' }));
      reportUsage(telemetry, record);
      options.onCallEnd?.(summary);
    },
  });
  return {
    gateway,
    health,
    gate,
    telemetry,
    ledger,
    config,
    close: async () => {
      clearInterval(ticker);
      unsubscribe();
      gate.dispose();
      await health.flush();
      await transport.close();
      await ledger.close();
      await telemetry.flush();
    },
  };
}

function parseTime(text: string | null, fallback: number): number {
  if (text === null || text === '') return fallback;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', { message: `Not a date: ${text}.` });
  return ms;
}
