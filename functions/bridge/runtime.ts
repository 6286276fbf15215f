import { hostname } from 'node:os';
import { envOverlay, loadConfig, mergeConfig, validateConfig } from '../../shared/config/load-config.js';
import { createConfigStore } from '../../shared/config/config-store.js';
import { checkIdentityConfig } from '../../shared/core/governance/check-identity-config.js';
import { createAzureClients } from '../../shared/adapters/azure/azure-clients.js';
import { createAppConfigurationConfigSource } from '../../shared/adapters/azure/app-configuration-config-source.js';
import type { GatewayConfig } from '../../shared/config/gateway-schema.js';
import { createAzureRuntime, type AzureRuntime } from '../../shared/composition/create-azure-runtime.js';
import type { GatewayRuntime } from '../../shared/composition/create-runtime.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import { createOrchestratingJobQueue, DurableLink } from '../orchestrations/durable-link.js';
import { readFunctionsSettings, type FunctionsSettings } from './functions-settings.js';

/** Everything the triggers share in one Functions worker process. */
export interface FunctionsHost {
  readonly runtime: GatewayRuntime;
  /** The configuration in force (before capacity shares are applied); follows reloads. */
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
 * production mode, without caller identity) fails every call with the problems in the log rather than
 * half-starting; the next call tries again.
 */
export function functionsHost(): Promise<FunctionsHost> {
  host ??= buildFunctionsHost(process.env).catch((error: unknown) => {
    host = undefined;
    throw error;
  });
  return host;
}

/** The engine of {@link functionsHost}. */
export async function functionsRuntime(): Promise<GatewayRuntime> {
  return (await functionsHost()).runtime;
}

/** Engine settings only: `GATEWAY_FUNCTIONS__*` are this host's own (the overlay would reject them). */
function engineEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('GATEWAY_FUNCTIONS__')));
}

function validateForHost(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
): ReturnType<typeof validateConfig> {
  const result = validateConfig(mergeConfig(raw as Record<string, unknown>, envOverlay(engineEnv(env))));
  if (!result.ok) return result;
  const problem = checkIdentityConfig(result.config.governance, result.config.server.mode);
  return problem === undefined ? result : { ok: false, issues: [problem] };
}

export async function buildFunctionsHost(env: Readonly<Record<string, string | undefined>>): Promise<FunctionsHost> {
  const settings = readFunctionsSettings(env);
  if (settings.configSource === 'app-configuration') {
    const clients = createAzureClients({ env });
    const source = createAppConfigurationConfigSource(
      { client: clients.appConfigurationClient() },
      {
        endpoint: clients.describe().appConfig ?? 'App Configuration',
        keyPrefix: settings.appConfigPrefix,
        label: settings.appConfigLabel,
        pollIntervalMs: settings.appConfigPollIntervalMs,
      },
    );
    const built: { host?: FunctionsHost } = {};
    const store = createConfigStore({
      source,
      validate: (raw) => validateForHost(raw, env),
      onReload: (event) =>
        built.host?.runtime.telemetry.event('ConfigReload', {
          ok: event.ok,
          source: event.source,
          issues: event.issues?.join('; '),
        }),
    });
    const first = await store.reload();
    if (!first.ok)
      throw new Error(`gateway configuration (${source.name}) is invalid:\n${(first.issues ?? []).join('\n')}`);
    built.host = createFunctionsHost(env, { config: () => store.current() });
    // Watch only once the host is built: a failed build is retried on the next call and must not leave
    // a sentinel poller behind each time.
    store.watch();
    return built.host;
  }
  const result = loadConfig({ env: engineEnv(env) });
  if (!result.ok) throw new Error(`gateway configuration (${result.source}) is invalid:\n${result.issues.join('\n')}`);
  const problem = checkIdentityConfig(result.config.governance, result.config.server.mode);
  if (problem !== undefined) throw new Error(`gateway configuration (${result.source}) is refused: ${problem}`);
  return createFunctionsHost(env, { config: result.config });
}

/** Builds a host from app settings and a configuration (a snapshot, or a getter that follows reloads). */
export function createFunctionsHost(
  env: Readonly<Record<string, string | undefined>>,
  overrides: { readonly config: GatewayConfig | (() => GatewayConfig) },
): FunctionsHost {
  const base =
    typeof overrides.config === 'function'
      ? overrides.config
      : (
          (c: GatewayConfig) => () =>
            c
        )(overrides.config);
  const settings = readFunctionsSettings(env);
  const durable = new DurableLink({
    instanceId: `${env['WEBSITE_INSTANCE_ID'] ?? hostname()}:${process.pid}`,
    reportIntervalMs: settings.ledgerReportIntervalMs,
  });
  const config = (): GatewayConfig => durable.configWithShares(base());
  const azure = createAzureRuntime({
    config,
    env,
    stores: settings.stores,
    names: { jobQueue: settings.jobQueue },
    ...(settings.durableJobs
      ? {
          wrapJobQueue: (queue: JobQueue, parts: { readonly jobStore: JobStore }) =>
            createOrchestratingJobQueue({ queue, jobStore: parts.jobStore, link: durable, config }),
        }
      : {}),
  });
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
