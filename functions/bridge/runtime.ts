import { hostname } from 'node:os';
import { configFileOf, fixedConfigSource, openHostConfig } from '../../shared/config/host-config.js';
import { createJsonFileConfigSource } from '../../shared/adapters/file/json-file-config-source.js';
import type { ConfigSource } from '../../shared/ports/config-source.js';
import { createAzureClients } from '../../shared/adapters/azure/azure-clients.js';
import { createAppConfigurationConfigSource } from '../../shared/adapters/azure/app-configuration-config-source.js';
import type { GatewayConfig } from '../../shared/config/gateway-schema.js';
import { createAzureRuntime, type AzureRuntime } from '../../shared/composition/create-azure-runtime.js';
import type { GatewayRuntime } from '../../shared/composition/create-runtime.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import { createOrchestratingJobQueue, DurableLink } from '../orchestrations/durable-link.js';
import { createDurableCapacityLedger } from '../orchestrations/durable-capacity-ledger.js';
import { ConfigRefusedError } from './config-refused.js';
import { readFunctionsSettings, type FunctionsSettings } from './functions-settings.js';
import type { CorruptReadSink } from '../../shared/ports/stored-record-error.js';

/** Everything the triggers share in one Functions worker process. */
export interface FunctionsHost {
  readonly runtime: GatewayRuntime;
  /** The configuration in force; follows reloads. */
  baseConfig(): GatewayConfig;
  readonly jobStore: JobStore;
  /** The Service Bus queue itself (the engine submits through the orchestrating wrapper). */
  readonly jobQueue: JobQueue;
  /** Re-sends a job message later, carrying its deliveries (see `createAzureRuntime`). */
  readonly reschedule: AzureRuntime['reschedule'];
  readonly settings: FunctionsSettings;
  readonly durable: DurableLink;
}

let host: Promise<FunctionsHost> | undefined;

/**
 * The Functions app's host, built on first use (no I/O at import time). Its configuration comes from
 * `gateway.config.json` beside the app (or `GATEWAY_CONFIG_FILE`) and `GATEWAY_*` app settings, or — with
 * `GATEWAY_FUNCTIONS__CONFIG_SOURCE=app-configuration` — from App Configuration, reloaded through the same
 * validate-and-swap path whenever the sentinel key changes. A configuration with problems (or, in
 * production mode, without caller identity) rejects with a {@link ConfigRefusedError}, which the HTTP
 * triggers answer as 503 `GW_ERR_SERVICE_NOT_CONFIGURED` naming the problems, rather than half-starting;
 * the next call tries again.
 */
export function functionsHost(): Promise<FunctionsHost> {
  host ??= buildFunctionsHost(process.env).catch((error: unknown) => {
    host = undefined;
    throw error;
  });
  return host;
}

/** The host if this worker has built it (or is building it), without building it: the shutdown hook's. */
export function builtFunctionsHost(): Promise<FunctionsHost> | undefined {
  return host;
}

/** The engine of {@link functionsHost}. */
export async function functionsRuntime(): Promise<GatewayRuntime> {
  return (await functionsHost()).runtime;
}

export async function buildFunctionsHost(env: Readonly<Record<string, string | undefined>>): Promise<FunctionsHost> {
  const settings = readFunctionsSettings(env);
  const opened = await openHostConfig(configSource(env, settings), env);
  if (!opened.ok) throw new ConfigRefusedError(opened.source, opened.issues);
  const host = createFunctionsHost(env, { config: opened.config.current, configSource: opened.config.source });
  opened.config.report(host.runtime.telemetry, undefined, (event) => host.runtime.status.configReloaded(event));
  // Watch only once the host is built: a failed build is retried on the next call and must not leave a
  // sentinel poller behind each time. A configuration file is read once per worker process.
  if (settings.configSource === 'app-configuration') opened.config.watch();
  return host;
}

/** App Configuration (sentinel-watched), else the configuration file, else no file: `GATEWAY_*` settings alone. */
function configSource(env: Readonly<Record<string, string | undefined>>, settings: FunctionsSettings): ConfigSource {
  if (settings.configSource === 'app-configuration') {
    const clients = createAzureClients({ env });
    return createAppConfigurationConfigSource(
      { client: clients.appConfigurationClient() },
      {
        endpoint: clients.describe().appConfig ?? 'App Configuration',
        keyPrefix: settings.appConfigPrefix,
        label: settings.appConfigLabel,
        pollIntervalMs: settings.appConfigPollIntervalMs,
      },
    );
  }
  const file = configFileOf(env);
  // No file: the GATEWAY_* settings alone over an empty (closed) configuration — never anonymous simulators.
  return file === undefined ? fixedConfigSource('no configuration file', {}) : createJsonFileConfigSource({ file });
}

/** Builds a host from app settings and a configuration (a snapshot, or a getter that follows reloads). */
export function createFunctionsHost(
  env: Readonly<Record<string, string | undefined>>,
  overrides: { readonly config: GatewayConfig | (() => GatewayConfig); readonly configSource?: string },
): FunctionsHost {
  const base =
    typeof overrides.config === 'function'
      ? overrides.config
      : (
          (c: GatewayConfig) => () =>
            c
        )(overrides.config);
  const settings = readFunctionsSettings(env);
  const durable = new DurableLink();
  const interval = settings.ledgerReportIntervalMs;
  // The durable ledger is built before the runtime whose reporter counts its corrupt reads.
  let reportCorrupt: CorruptReadSink = () => undefined;
  const azure = createAzureRuntime({
    config: base,
    env,
    stores: settings.stores,
    jobTransport: settings.jobTransport,
    names: { jobQueue: settings.jobQueue },
    // Instances share each pool's capacity through the `capacityLedger` entity (off with the interval at 0).
    capacityLedger:
      settings.stores === 'memory' || interval === 0
        ? null
        : createDurableCapacityLedger(() => durable.client, { onCorrupt: (error) => reportCorrupt(error) }),
    runtime: {
      configSource: overrides.configSource ?? 'configuration',
      instanceId: `${env['WEBSITE_INSTANCE_ID'] ?? hostname()}:${process.pid}`,
      ...(interval === undefined || interval === 0 ? {} : { sharingOverrides: { reportIntervalMs: interval } }),
    },
    ...(settings.durableJobs
      ? {
          wrapJobQueue: (queue: JobQueue, parts: { readonly jobStore: JobStore }) =>
            createOrchestratingJobQueue({ queue, jobStore: parts.jobStore, link: durable, config: base }),
        }
      : {}),
  });
  durable.reportWritesTo(azure.runtime.backgroundWrites);
  reportCorrupt = azure.runtime.corruptReads.report;
  return {
    runtime: azure.runtime,
    baseConfig: base,
    jobStore: azure.jobStore,
    jobQueue: azure.jobQueue,
    reschedule: azure.reschedule,
    settings,
    durable,
  };
}

/** Replaces the host (tests, the smoke script); `undefined` forgets it. */
export function setFunctionsHost(next: FunctionsHost | undefined): void {
  host = next === undefined ? undefined : Promise.resolve(next);
}
