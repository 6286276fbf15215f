import type { GatewayConfig } from '../config/gateway-schema.js';
import type { HostEnv } from '../config/host-config.js';
import type { GatewayRuntime } from '../composition/create-runtime.js';
import type { StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import { StartProblem } from './start-problem.js';

/** How long the start-up storage check waits, the SDK's own retries included. */
const PROBE_TIMEOUT_MS = 10_000;

/** The one Azurite command the docs give (README, local-development.md, operations.md). */
export const AZURITE_COMMAND = 'npx azurite --silent --location .azurite --skipApiVersionCheck --disableTelemetry';

/**
 * The standalone host on the Azure storage adapters (`--storage azurite`): the `AzureWebJobsStorage`
 * account (default: a local Azurite). Checks first that the account answers and throws a
 * {@link StartProblem} naming the account, its endpoint and what to do when it does not — the host never
 * starts on storage it cannot reach. The Azure SDKs are loaded only here.
 *
 * @example
 * const { runtime, storage } = await openStorageRuntime(current, env, { configSource: 'gateway.config.json' });
 */
export async function openStorageRuntime(
  config: () => GatewayConfig,
  env: HostEnv,
  runtimeOptions: { readonly configSource: string; readonly instanceId?: string },
): Promise<{ readonly runtime: GatewayRuntime; readonly storage: StorageEndpoint }> {
  const [{ createAzureRuntime, DEFAULT_AZURE_RESOURCE_NAMES }, { createAzureClients }, reach] = await Promise.all([
    import('../composition/create-azure-runtime.js'),
    import('../adapters/azure/azure-clients.js'),
    import('../adapters/azure/storage-reachability.js'),
  ]);
  const clientEnv = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env };
  let clients: ReturnType<typeof createAzureClients>;
  let probeClient: ReturnType<ReturnType<typeof createAzureClients>['tableClient']>;
  try {
    clients = createAzureClients({ env: clientEnv });
    probeClient = clients.tableClient(DEFAULT_AZURE_RESOURCE_NAMES.healthTable);
  } catch (error) {
    throw new StartProblem(`storage is not configured: ${(error as Error).message}`, { cause: error });
  }
  const storage = reach.storageEndpointOf(probeClient);
  const probe = await reach.probeStorage(probeClient, PROBE_TIMEOUT_MS);
  if (!probe.ok) throw new StartProblem(unreachable(storage, probe.reason, env.AzureWebJobsStorage === undefined));
  const { runtime } = createAzureRuntime({ config, env, stores: 'azurite', clients, runtime: runtimeOptions });
  return { runtime, storage };
}

function unreachable(storage: StorageEndpoint, reason: string, localDefault: boolean): string {
  const where = `${storage.account} at ${storage.endpoint}`;
  const what = `storage account ${where} (AzureWebJobsStorage) does not answer: ${reason}`;
  return localDefault
    ? `${what}. Start Azurite first (${AZURITE_COMMAND}), or point AzureWebJobsStorage at your account, ` +
        'or start without --storage azurite.'
    : `${what}. Check that AzureWebJobsStorage names a reachable account and this identity may use its tables.`;
}
