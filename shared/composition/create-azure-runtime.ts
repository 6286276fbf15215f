import type { GatewayConfig } from '../config/gateway-schema.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { JobMessage, JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { CapacityLedger } from '../ports/capacity-ledger.js';
import { appInsightsCredential } from '../adapters/azure/app-insights-credential.js';
import { createAppInsightsTelemetry } from '../adapters/azure/app-insights-telemetry.js';
import type { AzureClients } from '../adapters/azure/azure-clients.js';
import { createAzureIdentityCredentialProvider } from '../adapters/azure/azure-identity-credential-provider.js';
import type { StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import { createBackgroundWrites } from '../core/resilience/background-writes.js';
import { createCorruptReads } from '../core/resilience/corrupt-reads.js';
import { azureStores, memoryStores } from './azure-stores.js';
import { createRuntime, type GatewayRuntime, type RuntimeOptions } from './create-runtime.js';

/** Names of the resources (defaults match `docs/storage.md`, `infra/` and `local.settings.sample.json`). */
export interface AzureResourceNames {
  readonly healthTable: string;
  readonly quotaTable: string;
  readonly usageTable: string;
  readonly jobsTable: string;
  readonly affinityTable: string;
  /** One row per pool: the capacity ledger replicas share (docs/storage.md, "GatewayCapacity"). */
  readonly capacityTable: string;
  readonly payloadContainer: string;
  readonly jobQueue: string;
}

/** The default resource names. */
export const DEFAULT_AZURE_RESOURCE_NAMES: AzureResourceNames = Object.freeze({
  healthTable: 'GatewayBackendHealth',
  quotaTable: 'GatewayQuota',
  usageTable: 'GatewayUsage',
  jobsTable: 'GatewayJobs',
  affinityTable: 'GatewayAffinity',
  capacityTable: 'GatewayCapacity',
  payloadContainer: 'gateway-payloads',
  jobQueue: 'gateway-jobs',
});

/** Options of {@link createAzureRuntime}. */
export interface AzureRuntimeOptions {
  readonly config: GatewayConfig | (() => GatewayConfig);
  /** App settings (usually `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * `azure` (default): Table, Blob and Service Bus from the identity-based settings; jobs run in the
   * Service Bus trigger and probes in the timer. `azurite`: Table and Blob from the `AzureWebJobsStorage`
   * connection string (default `UseDevelopmentStorage=true`, a local Azurite), an in-process job queue
   * and runner, in-process probes — the standalone host on real storage adapters (`npm start -- --storage
   * azurite`). `memory`: in-process stores and queue (tests, the CI smoke script).
   */
  readonly stores?: 'azure' | 'azurite' | 'memory';
  /**
   * Where long calls wait for a worker, with `azure` or `azurite` stores: `service-bus` (default with
   * `azure`; the Functions app's Service Bus trigger), `storage-queue` (a queue of the same Storage account
   * — Azurite under `func start` — and the Functions app's queue trigger; ADR 0007), or `in-process` (a
   * memory queue and a runner in this process; default with `azurite`). `memory` stores always queue in memory.
   */
  readonly jobTransport?: JobTransport;
  readonly names?: Partial<AzureResourceNames>;
  /** Where failed background writes are logged when App Insights is not configured (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * Where usage records still unwritten at close are appended, first writable wins (default: the working
   * directory, then the temp directory). Tests pass a temp folder so a run never writes into the checkout.
   */
  readonly spillDirectories?: readonly string[];
  /** Overrides the SDK clients (tests). */
  readonly clients?: AzureClients;
  /**
   * Wraps the job queue the engine submits to (the Functions app starts a durable orchestration there
   * instead of sending to Service Bus directly). The unwrapped queue is returned as `jobQueue`.
   */
  readonly wrapJobQueue?: (queue: JobQueue, parts: { readonly jobStore: JobStore }) => JobQueue;
  /**
   * The capacity ledger this instance shares with the others. Default with `azure` and `azurite` stores:
   * the Table ledger (`names.capacityTable`); the Functions app passes its durable entity ledger; `null`
   * shares nothing (each instance admits its configured capacity).
   */
  readonly capacityLedger?: CapacityLedger | null;
  /** Passed through to {@link createRuntime}. */
  readonly runtime?: Omit<
    RuntimeOptions,
    | 'config'
    | 'env'
    | 'healthStore'
    | 'quotaStore'
    | 'ledger'
    | 'telemetry'
    | 'backgroundWrites'
    | 'corruptReads'
    | 'credentials'
    | 'jobStore'
    | 'payloadStore'
    | 'jobQueue'
    | 'runJobsInProcess'
    | 'storage'
  >;
}

/** Where long calls wait for a worker (see {@link AzureRuntimeOptions.jobTransport}). */
export type JobTransport = 'service-bus' | 'storage-queue' | 'in-process';

/** The runtime plus the adapters the Functions triggers use directly. */
export interface AzureRuntime {
  readonly runtime: GatewayRuntime;
  readonly jobStore: JobStore;
  readonly payloadStore: PayloadStore;
  /** The queue itself (Service Bus), not the wrapped one the engine submits to. */
  readonly jobQueue: JobQueue;
  readonly healthStore: BackendHealthStore;
  /**
   * Re-sends a job's message at `deliverAtMs`, carrying `deliveries` so far (a delayed retry when the
   * host itself settles messages). Service Bus: `messageId` `{jobId}.r{n}` (passes duplicate detection)
   * and `gwPriorDeliveries`, the same format as `ServiceBusJobQueue.abandon`.
   */
  reschedule(message: JobMessage, deliveries: number, deliverAtMs: number): Promise<void>;
  readonly telemetry: Telemetry | undefined;
  /** Connection modes per setting, no secrets (startup log). */
  readonly describe: Record<string, string>;
  /** The storage account and Table endpoint (`azure` and `azurite` stores), for start-up lines and messages. */
  readonly storage: StorageEndpoint | undefined;
}

/**
 * Builds the engine for the Azure Functions app: Table stores (backend health, quotas, usage, jobs),
 * Blob payloads, the Service Bus job queue, Application Insights (when its connection string is set) and
 * managed-identity backend credentials — all from identity-based app settings through
 * `createAzureClients`. Jobs do not run in process: the Service Bus trigger runs them and a timer sweeps.
 * Nothing connects until first use (no I/O here).
 *
 * @example
 * const { runtime, jobStore, jobQueue } = createAzureRuntime({ config, env: process.env });
 */
export function createAzureRuntime(options: AzureRuntimeOptions): AzureRuntime {
  const names = { ...DEFAULT_AZURE_RESOURCE_NAMES, ...options.names };
  const initial = typeof options.config === 'function' ? options.config() : options.config;
  const env = options.env;
  const telemetry = appInsightsTelemetry(env);
  // Without App Insights, failed background writes (the Table ledger's among them) go to the log.
  const backgroundWrites = createBackgroundWrites({ telemetry, log: options.log });
  const corruptReads = createCorruptReads({ telemetry, log: options.log });
  const stores = options.stores ?? 'azure';
  const transport: JobTransport =
    stores === 'memory' ? 'in-process' : (options.jobTransport ?? (stores === 'azure' ? 'service-bus' : 'in-process'));
  const maxDeliveries = initial.async.maxDeliveries;
  const built =
    stores === 'memory'
      ? memoryStores(maxDeliveries)
      : azureStores(options, names, transport, { telemetry, backgroundWrites, corruptReads }, maxDeliveries);
  const { healthStore, jobStore, payloadStore, jobQueue } = built;
  const shared = options.capacityLedger === null ? undefined : (options.capacityLedger ?? built.capacityLedger);
  const runtime = createRuntime({
    ...options.runtime,
    ...built.runtimeStores,
    config: options.config,
    env,
    healthStore,
    ...(telemetry === undefined ? {} : { telemetry }),
    backgroundWrites,
    corruptReads,
    ...(shared === undefined ? {} : { capacityLedger: shared }),
    credentials: createAzureIdentityCredentialProvider({ env }),
    jobStore,
    payloadStore,
    jobQueue: options.wrapJobQueue?.(jobQueue, { jobStore }) ?? jobQueue,
    // On Functions a queue trigger runs jobs and the healthProbe timer probes; in process only when asked.
    runJobsInProcess: stores !== 'memory' && transport === 'in-process',
    runProbesInProcess: stores === 'azurite',
    // A durable job holds a capacity-ledger lease for its whole run; its execution takes no second slot.
    jobsHoldCapacity: options.wrapJobQueue !== undefined,
  });
  const { reschedule, describe, storage } = built;
  return { runtime, jobStore, payloadStore, jobQueue, healthStore, reschedule, telemetry, describe, storage };
}

/** Application Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set (Entra auth when configured). */
function appInsightsTelemetry(env: AzureRuntimeOptions['env']): Telemetry | undefined {
  const connection = env['APPLICATIONINSIGHTS_CONNECTION_STRING'];
  if (connection === undefined || connection === '') return undefined;
  return createAppInsightsTelemetry(
    {},
    {
      connectionString: connection,
      credential: appInsightsCredential(env['APPLICATIONINSIGHTS_AUTHENTICATION_STRING']),
    },
  );
}
