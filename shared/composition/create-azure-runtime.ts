import type { GatewayConfig } from '../config/gateway-schema.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { JobMessage, JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import { appInsightsCredential } from '../adapters/azure/app-insights-credential.js';
import type { CapacityLedger } from '../ports/capacity-ledger.js';
import { createTableCapacityLedger } from '../adapters/azure/table-capacity-ledger.js';
import { createAppInsightsTelemetry } from '../adapters/azure/app-insights-telemetry.js';
import { createAzureClients, type AzureClients } from '../adapters/azure/azure-clients.js';
import { createAzureIdentityCredentialProvider } from '../adapters/azure/azure-identity-credential-provider.js';
import { createBlobPayloadStore } from '../adapters/azure/blob-payload-store.js';
import { createServiceBusJobQueueFromClient } from '../adapters/azure/service-bus-job-queue.js';
import { serviceBusRetryCopy } from '../adapters/azure/service-bus-job-message.js';
import { createStorageQueueJobQueue } from '../adapters/azure/storage-queue-job-queue.js';
import { createTableBackendHealthStore } from '../adapters/azure/table-backend-health-store.js';
import { createTableJobStore } from '../adapters/azure/table-job-store.js';
import { createTableQuotaStore } from '../adapters/azure/table-quota-store.js';
import { createTableUsageLedger } from '../adapters/azure/table-usage-ledger.js';
import { createTableAffinityStore } from '../adapters/azure/table-affinity-store.js';
import { storageEndpointOf, type StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import { MemoryBackendHealthStore } from '../adapters/memory/memory-backend-health-store.js';
import { MemoryJobQueue } from '../adapters/memory/memory-job-queue.js';
import { MemoryJobStore } from '../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../adapters/memory/memory-payload-store.js';
import { systemClock } from '../core/clock.js';
import { createBackgroundWrites } from '../core/resilience/background-writes.js';
import { createCorruptReads } from '../core/resilience/corrupt-reads.js';
import { createRuntime, type GatewayRuntime, type RuntimeOptions } from './create-runtime.js';
import { guardStorage } from './storage-guard.js';
import { usageSpillFile } from '../adapters/file/usage-spill-file.js';

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
  const connection = env['APPLICATIONINSIGHTS_CONNECTION_STRING'];
  const telemetry =
    connection === undefined || connection === ''
      ? undefined
      : createAppInsightsTelemetry(
          {},
          {
            connectionString: connection,
            credential: appInsightsCredential(env['APPLICATIONINSIGHTS_AUTHENTICATION_STRING']),
          },
        );
  // Without App Insights, failed background writes (the Table ledger's among them) go to the log.
  const backgroundWrites = createBackgroundWrites({ telemetry, log: options.log });
  const onError = (error: unknown): void => backgroundWrites.failed('usage-ledger', error);
  const corruptReads = createCorruptReads({ telemetry, log: options.log });
  const onCorrupt = { onCorrupt: corruptReads.report };

  let healthStore: BackendHealthStore;
  let jobStore: JobStore;
  let payloadStore: PayloadStore;
  let jobQueue: JobQueue;
  let extra: Pick<RuntimeOptions, 'quotaStore' | 'ledger'> = {};
  let describe: Record<string, string> = { stores: 'memory' };
  let storage: StorageEndpoint | undefined;
  let reschedule = (message: JobMessage, _deliveries: number, deliverAtMs: number): Promise<void> =>
    jobQueue.send(message, { deliverAtMs });
  const stores = options.stores ?? 'azure';
  const transport: JobTransport =
    stores === 'memory' ? 'in-process' : (options.jobTransport ?? (stores === 'azure' ? 'service-bus' : 'in-process'));
  let affinityStore: RuntimeOptions['affinityStore'];
  let capacityLedger: CapacityLedger | undefined;
  if (stores === 'azure' || stores === 'azurite') {
    const clientEnv = stores === 'azurite' ? { AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env } : env;
    const clients = options.clients ?? createAzureClients({ env: clientEnv });
    // A storage outage reaches callers as 503 GW_ERR_STORAGE_UNAVAILABLE naming the account, never as a 500.
    const endpoint = (storage = storageEndpointOf(clients.tableClient(names.healthTable)));
    const guard = <T extends object>(store: T): T => guardStorage(store, endpoint);
    affinityStore = guard(
      createTableAffinityStore(
        { client: clients.tableClient(names.affinityTable), now: () => systemClock.now() },
        onCorrupt,
      ),
    );
    healthStore = guard(createTableBackendHealthStore({ client: clients.tableClient(names.healthTable) }, onCorrupt));
    jobStore = guard(createTableJobStore({ client: clients.tableClient(names.jobsTable) }, onCorrupt));
    payloadStore = guard(
      createBlobPayloadStore(
        { service: clients.blobServiceClient() },
        { container: names.payloadContainer, ...onCorrupt },
      ),
    );
    const maxDeliveries = initial.async.maxDeliveries;
    if (transport === 'service-bus') {
      jobQueue = createServiceBusJobQueueFromClient(clients.serviceBusClient(), names.jobQueue, { maxDeliveries });
      reschedule = serviceBusReschedule(clients, names.jobQueue);
    } else if (transport === 'storage-queue') {
      const queues = clients.queueServiceClient();
      const queue = createStorageQueueJobQueue(
        {
          queue: queues.getQueueClient(names.jobQueue),
          poisonQueue: queues.getQueueClient(`${names.jobQueue}-poison`),
        },
        { maxDeliveries },
      );
      jobQueue = queue;
      reschedule = queue.reschedule;
    } else jobQueue = new MemoryJobQueue({ clock: systemClock, maxDeliveries });
    extra = {
      quotaStore: guard(createTableQuotaStore({ client: clients.tableClient(names.quotaTable) }, onCorrupt)),
      // Records still unwritten when the host stops (storage down) go to a local file, never lost.
      ledger: guard(
        createTableUsageLedger(
          { client: clients.tableClient(names.usageTable) },
          {
            onError,
            spill: (records) => usageSpillFile(records, options.spillDirectories),
            onSpilled: reportSpill(endpoint, telemetry),
            ...onCorrupt,
          },
        ),
      ),
    };
    capacityLedger = createTableCapacityLedger({ client: clients.tableClient(names.capacityTable) }, onCorrupt);
    describe = { ...clients.describe(), jobTransport: transport };
  } else {
    healthStore = new MemoryBackendHealthStore();
    jobStore = new MemoryJobStore();
    payloadStore = new MemoryPayloadStore();
    jobQueue = new MemoryJobQueue({ clock: systemClock, maxDeliveries: initial.async.maxDeliveries });
  }
  const shared = options.capacityLedger === null ? undefined : (options.capacityLedger ?? capacityLedger);
  const runtime = createRuntime({
    ...options.runtime,
    ...(storage === undefined ? {} : { storage }),
    config: options.config,
    env,
    healthStore,
    ...extra,
    ...(telemetry === undefined ? {} : { telemetry }),
    backgroundWrites,
    corruptReads,
    ...(affinityStore === undefined ? {} : { affinityStore }),
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
  return { runtime, jobStore, payloadStore, jobQueue, healthStore, reschedule, telemetry, describe, storage };
}

/** Says where usage records went that the Table ledger could not write before it closed (one line, and telemetry). */
function reportSpill(endpoint: StorageEndpoint, telemetry: Telemetry | undefined) {
  return (count: number, where: string): void => {
    telemetry?.event('UsageSpilled', { count, where, account: endpoint.account });
    process.stderr.write(
      `gateway: ${count} usage record(s) could not be written to the Table ledger (account ${endpoint.account} ` +
        `at ${endpoint.endpoint}); kept in ${where} (read it with npm run usage -- --file ${where})\n`,
    );
  };
}

/** Re-sends a job message later on Service Bus, carrying its deliveries (see {@link AzureRuntime.reschedule}). */
function serviceBusReschedule(clients: AzureClients, queueName: string): AzureRuntime['reschedule'] {
  const sender = clients.serviceBusClient().createSender(queueName);
  return (message, deliveries, deliverAtMs) =>
    sender.sendMessages(serviceBusRetryCopy(message, deliveries, deliverAtMs));
}
