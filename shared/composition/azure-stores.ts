import { createAzureClients } from '../adapters/azure/azure-clients.js';
import { createBlobPayloadStore } from '../adapters/azure/blob-payload-store.js';
import { storageEndpointOf, type StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import { createTableAffinityStore } from '../adapters/azure/table-affinity-store.js';
import { createTableBackendHealthStore } from '../adapters/azure/table-backend-health-store.js';
import { createTableCapacityLedger } from '../adapters/azure/table-capacity-ledger.js';
import { createTableJobStore } from '../adapters/azure/table-job-store.js';
import { createTableQuotaStore } from '../adapters/azure/table-quota-store.js';
import { createTableUsageLedger } from '../adapters/azure/table-usage-ledger.js';
import { usageSpillFile } from '../adapters/file/usage-spill-file.js';
import { MemoryBackendHealthStore } from '../adapters/memory/memory-backend-health-store.js';
import { MemoryJobStore } from '../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../adapters/memory/memory-payload-store.js';
import { systemClock } from '../core/clock.js';
import type { BackgroundWrites } from '../core/resilience/background-writes.js';
import type { CorruptReads } from '../core/resilience/corrupt-reads.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { CapacityLedger } from '../ports/capacity-ledger.js';
import type { JobStore } from '../ports/job-store.js';
import type { PayloadStore } from '../ports/payload-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import { azureJobQueue, memoryJobQueue, type AzureJobQueue } from './azure-job-transport.js';
import type { AzureResourceNames, AzureRuntimeOptions, JobTransport } from './create-azure-runtime.js';
import type { RuntimeOptions } from './create-runtime.js';
import { guardStorage } from './storage-guard.js';

/** The stores the Azure runtime gives the engine and the Functions triggers. */
export interface AzureStores extends AzureJobQueue {
  readonly healthStore: BackendHealthStore;
  readonly jobStore: JobStore;
  readonly payloadStore: PayloadStore;
  /** The stores passed to `createRuntime` as they are (none with memory stores: its in-memory defaults). */
  readonly runtimeStores: Pick<RuntimeOptions, 'quotaStore' | 'ledger' | 'affinityStore' | 'storage'>;
  /** The Table capacity ledger replicas share (not with memory stores). */
  readonly capacityLedger: CapacityLedger | undefined;
  /** Connection modes per setting, no secrets (startup log). */
  readonly describe: Record<string, string>;
  readonly storage: StorageEndpoint | undefined;
}

/** Where the stores report: corrupt reads, failed background writes, spilled usage records. */
export interface StoreReporting {
  readonly telemetry: Telemetry | undefined;
  readonly backgroundWrites: BackgroundWrites;
  readonly corruptReads: CorruptReads;
}

/** In-process stores and queue (tests, the CI smoke script). */
export function memoryStores(maxDeliveries: number): AzureStores {
  return {
    healthStore: new MemoryBackendHealthStore(),
    jobStore: new MemoryJobStore(),
    payloadStore: new MemoryPayloadStore(),
    ...memoryJobQueue(maxDeliveries),
    runtimeStores: {},
    capacityLedger: undefined,
    describe: { stores: 'memory' },
    storage: undefined,
  };
}

/**
 * Table stores, Blob payloads and the job queue of `transport`, on Azure (identity-based settings) or on
 * Azurite (`AzureWebJobsStorage`, default `UseDevelopmentStorage=true`). A storage outage reaches callers as
 * 503 `GW_ERR_STORAGE_UNAVAILABLE` naming the account, never as a 500 (`guardStorage`).
 */
export function azureStores(
  options: AzureRuntimeOptions,
  names: AzureResourceNames,
  transport: JobTransport,
  reporting: StoreReporting,
  maxDeliveries: number,
): AzureStores {
  const env =
    options.stores === 'azurite' ? { AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...options.env } : options.env;
  const clients = options.clients ?? createAzureClients({ env });
  const table = (name: string) => ({ client: clients.tableClient(name) });
  const storage = storageEndpointOf(clients.tableClient(names.healthTable));
  const guard = <T extends object>(store: T): T => guardStorage(store, storage);
  const onCorrupt = { onCorrupt: reporting.corruptReads.report };
  const affinity = { client: clients.tableClient(names.affinityTable), now: () => systemClock.now() };
  return {
    healthStore: guard(createTableBackendHealthStore(table(names.healthTable), onCorrupt)),
    jobStore: guard(createTableJobStore(table(names.jobsTable), onCorrupt)),
    payloadStore: guard(
      createBlobPayloadStore(
        { service: clients.blobServiceClient() },
        { container: names.payloadContainer, ...onCorrupt },
      ),
    ),
    ...azureJobQueue(clients, names.jobQueue, transport, maxDeliveries),
    runtimeStores: {
      affinityStore: guard(createTableAffinityStore(affinity, onCorrupt)),
      quotaStore: guard(createTableQuotaStore(table(names.quotaTable), onCorrupt)),
      ledger: guard(
        tableUsageLedger(clients.tableClient(names.usageTable), storage, reporting, options.spillDirectories),
      ),
      storage,
    },
    capacityLedger: createTableCapacityLedger(table(names.capacityTable), onCorrupt),
    describe: { ...clients.describe(), jobTransport: transport },
    storage,
  };
}

/** The Table usage ledger; records still unwritten when the host stops (storage down) go to a local file. */
function tableUsageLedger(
  client: ReturnType<ReturnType<typeof createAzureClients>['tableClient']>,
  storage: StorageEndpoint,
  { backgroundWrites, corruptReads, telemetry }: StoreReporting,
  spillDirectories: readonly string[] | undefined,
): UsageLedger {
  return createTableUsageLedger(
    { client },
    {
      onError: (error) => backgroundWrites.failed('usage-ledger', error),
      spill: (records) => usageSpillFile(records, spillDirectories),
      onSpilled: reportSpill(storage, telemetry),
      onCorrupt: corruptReads.report,
    },
  );
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
