import { createJsonFileConfigSource } from '../adapters/file/json-file-config-source.js';
import { createRuntime, type GatewayRuntime } from '../composition/create-runtime.js';
import { configFileOf, fixedConfigSource, openHostConfig, type HostEnv } from '../config/host-config.js';
import { envOverlay } from '../config/env-overlay.js';
import { validateInChildProcess } from '../config/host-validators.js';
import type { StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import type { DrainReport } from '../core/lifecycle/call-drain.js';
import type { ConfigSource } from '../ports/config-source.js';
import { embeddedDefaults } from './embedded-defaults.js';
import { startHeapReducer } from './heap-reducer.js';
import { StartProblem, listenProblem } from './start-problem.js';
import { startNodeHost, type NodeHost } from './node-host.js';
import { openStorageRuntime } from './storage-runtime.js';

/** Options of {@link startStandaloneHost}. */
export interface StandaloneOptions {
  readonly env: HostEnv;
  /** `memory` (in-process stores) or `azurite` (Table and Blob adapters on `AzureWebJobsStorage`). */
  readonly storage: 'memory' | 'azurite';
  /** Where reload reports go (one line each). */
  readonly log: (line: string) => void;
  /** This replica's name in the shared capacity ledger (`azurite` storage; default: host name, pid, random). */
  readonly instanceId?: string;
}

/** A running standalone gateway. */
export interface StandaloneHost {
  readonly host: NodeHost;
  readonly runtime: GatewayRuntime;
  /** Where the configuration came from, for the start-up line. */
  readonly source: string;
  /** True when the configuration file is watched for changes. */
  readonly watched: boolean;
  /** The storage account in use (`azurite` storage), for the start-up line. */
  readonly storage: StorageEndpoint | undefined;
  /** The built-in simulator backends of the embedded defaults (none with a configuration file). */
  readonly simulatorUrls: readonly string[];
  /**
   * Shutdown drain (SIGTERM): readiness turns false and new calls get 503 with `connection: close` while the
   * listener stays open; calls in flight finish within `server.shutdownGraceMs`, then open streams end with
   * their terminal error event and running jobs go back to their queue. {@link close} follows.
   */
  drain(): Promise<DrainReport>;
  /** Closes the host; `connectionGraceMs` lets busy connections finish their response first (after a drain). */
  close(options?: { readonly connectionGraceMs?: number }): Promise<void>;
}

/** A configuration refused at start: every problem. */
export interface StandaloneRefusal {
  readonly source: string;
  readonly issues: readonly string[];
}

/**
 * Starts the standalone gateway (`npm start`). With a `gateway.config.json` (or `GATEWAY_CONFIG_FILE`) it
 * serves that configuration and reloads it when the file changes, through the host configuration pipeline
 * (validated and swapped atomically; an invalid edit is refused and the last good configuration stays);
 * without one it starts two built-in simulator backends and serves every model name through them, to anyone —
 * which is why production mode (`GATEWAY_SERVER__MODE=production`) without a configuration file is refused
 * before anything starts.
 * A port in use (or an address this machine lacks) throws a {@link StartProblem} whose message says what to change.
 *
 * @example
 * const started = await startStandaloneHost({ env: process.env, storage: 'memory', log: console.log });
 * if ('issues' in started) throw new Error(started.issues.join('\n'));
 */
export async function startStandaloneHost(options: StandaloneOptions): Promise<StandaloneHost | StandaloneRefusal> {
  const { env } = options;
  const file = configFileOf(env);
  if (file === undefined && productionMode(env))
    return { source: 'embedded defaults + GATEWAY_* environment', issues: [PRODUCTION_WITHOUT_FILE] };
  const simulators: { url: string; close(): Promise<void> }[] = [];
  const closeSimulators = () => Promise.all(simulators.map((s) => s.close()));
  const source = file !== undefined ? createJsonFileConfigSource({ file }) : await embeddedSource(env, simulators);
  const opened = await openHostConfig(source, env, validateInChildProcess);
  if (!opened.ok) {
    await closeSimulators();
    return { source: opened.source, issues: opened.issues };
  }
  const current = opened.config.current;
  let runtime: GatewayRuntime;
  let storage: StorageEndpoint | undefined;
  if (options.storage === 'azurite') {
    // The Azure SDKs (and Application Insights) are loaded only when asked for: they cost tens of MB.
    const withStorage = await openStorageRuntime(current, env, {
      configSource: opened.config.source,
      ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
    }).catch(async (error: unknown) => {
      await closeSimulators();
      throw error;
    });
    ({ runtime, storage } = withStorage);
  } else runtime = createRuntime({ config: current, env, configSource: opened.config.source });
  opened.config.report(runtime.telemetry, options.log, (event) => runtime.status.configReloaded(event));
  const stopWatching = opened.config.watch();
  // Start-up's garbage and grown heap given back before the first call can wait for it; later bursts' after them.
  const heap = startHeapReducer(
    () => runtime.gate.stats(),
    () => runtime.inFlight(),
  );
  const host = await listen(runtime, async () => {
    heap?.stop();
    stopWatching();
    await runtime.close();
    await closeSimulators();
  });
  return {
    host,
    runtime,
    source: opened.config.source,
    watched: file !== undefined,
    storage,
    simulatorUrls: simulators.map((s) => s.url),
    drain: () => runtime.drain(current().server.shutdownGraceMs),
    async close(closeOptions) {
      heap?.stop();
      stopWatching();
      await host.close(closeOptions);
      await runtime.close();
      await closeSimulators();
    },
  };
}

/** Starts the HTTP host on the configured address; on failure `undo` runs and the error names what to change. */
async function listen(runtime: GatewayRuntime, undo: () => Promise<void>): Promise<NodeHost> {
  const { server, limits } = runtime.config();
  try {
    return await startNodeHost(runtime.gateway, {
      host: server.host,
      port: server.port,
      maxHeaderBytes: limits.maxHeaderBytes,
      // Follows a reloaded limit: any declared body the gateway could have taken is drained when refused.
      largestBodyBytes: () => runtime.config().limits.maxBodyBytes,
    });
  } catch (error) {
    await undo();
    const problem = listenProblem(error, server.host, server.port);
    throw problem === undefined ? error : new StartProblem(problem, { cause: error });
  }
}

const PRODUCTION_WITHOUT_FILE =
  'server.mode is "production" but there is no configuration file (gateway.config.json in the working ' +
  'directory, or GATEWAY_CONFIG_FILE): the embedded defaults (built-in simulator backends, anonymous access) ' +
  'are for development only. Give a configuration that names the backends and the callers (docs/configuration.md).';

/** True when the `GATEWAY_*` environment asks for production mode. */
function productionMode(env: HostEnv): boolean {
  const server = envOverlay(env, () => undefined)['server'];
  return typeof server === 'object' && server !== null && (server as { mode?: unknown }).mode === 'production';
}

/**
 * The embedded defaults: two built-in simulator backends serving every model name. The simulator is loaded
 * only here — with a configuration file it would cost memory for nothing.
 */
async function embeddedSource(
  env: HostEnv,
  simulators: { url: string; close(): Promise<void> }[],
): Promise<ConfigSource> {
  const { startSimulator } = await import('../../simulator/simulator.js');
  for (const name of ['a', 'b']) simulators.push(await startSimulator({ name: `simulator-${name}`, port: 0 }));
  const port = Number(env.GATEWAY_SERVER__PORT ?? env.PORT ?? 8000);
  const urls = simulators.map((s) => s.url);
  return fixedConfigSource('embedded defaults', embeddedDefaults(urls, port));
}
