import { validateConfig } from '../../shared/config/load-config.js';
import type { GatewayConfig, GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { createRuntime, type GatewayRuntime, type RuntimeOptions } from '../../shared/composition/create-runtime.js';
import type { CallSummary } from '../../shared/core/pipeline/call-summary.js';
import { startNodeHost, type NodeHost } from '../../shared/standalone/node-host.js';
import { createMemoryUsageLedger } from '../../shared/adapters/memory/memory-usage-ledger.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/simulator.js';

/** A gateway on port 0 in front of simulators on port 0, for component and e2e tests. */
export interface Harness {
  readonly url: string;
  readonly sims: Record<string, RunningSimulator>;
  readonly runtime: GatewayRuntime;
  readonly host: NodeHost;
  /** The configuration in force (follows {@link Harness.reload}). */
  readonly config: GatewayConfig;
  /** Swaps the configuration, as a hot reload does: calls from now on see the new snapshot. */
  reload(config: (urls: Record<string, string>) => GatewayConfigInput): void;
  /** Every call summary reported, in order of completion. */
  readonly calls: CallSummary[];
  /** Resolves with the summary of the next call to end. */
  nextCall(): Promise<CallSummary>;
  close(): Promise<void>;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Simulators to start, by backend id. */
  readonly simulators?: Record<string, Omit<SimulatorOptions, 'port' | 'host' | 'name'>>;
  /** Builds the config from the simulators' URLs; defaults to one pool of all simulators serving every model. */
  readonly config?: (urls: Record<string, string>) => GatewayConfigInput;
  readonly runtime?: Omit<RuntimeOptions, 'config' | 'onCallEnd'>;
}

/**
 * Starts simulators, a runtime and a Node host.
 *
 * @example
 * const h = await startHarness({ simulators: { a: {}, b: {} } });
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const specs = options.simulators ?? { a: {}, b: {} };
  const sims: Record<string, RunningSimulator> = {};
  for (const [id, spec] of Object.entries(specs)) sims[id] = await startSimulator({ ...spec, name: id, port: 0 });
  const urls = Object.fromEntries(Object.entries(sims).map(([id, s]) => [id, s.url]));
  const raw = options.config?.(urls) ?? defaultConfig(urls);
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(`harness config invalid:\n${result.issues.join('\n')}`);
  const calls: CallSummary[] = [];
  const waiters: ((s: CallSummary) => void)[] = [];
  let current = result.config;
  const runtime = createRuntime({
    ledger: createMemoryUsageLedger(),
    ...options.runtime,
    config: () => current,
    onCallEnd: (summary) => {
      const copy = { ...summary };
      calls.push(copy);
      waiters.shift()?.(copy);
    },
  });
  const host = await startNodeHost(runtime.gateway, { port: 0, maxHeaderBytes: result.config.limits.maxHeaderBytes });
  return {
    url: host.url,
    sims,
    runtime,
    host,
    get config() {
      return current;
    },
    reload: (next) => {
      const reloaded = validateConfig(next(urls));
      if (!reloaded.ok) throw new Error(`harness reload invalid:\n${reloaded.issues.join('\n')}`);
      current = reloaded.config;
    },
    calls,
    nextCall: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      await host.close();
      await runtime.close();
      await Promise.all(Object.values(sims).map((s) => s.close()));
    },
  };
}

/** One pool of every simulator (in one group, weights equal), a catch-all model route, anonymous callers. */
export function defaultConfig(
  urls: Record<string, string>,
  extra: Partial<GatewayConfigInput> = {},
): GatewayConfigInput {
  const ids = Object.keys(urls);
  return {
    backends: ids.map((id) => ({ id, url: urls[id]!, kind: 'openai' as const })),
    pools: [{ id: 'main', backends: ids }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
    governance: { identity: { anonymous: { allowed: true } } },
    ...extra,
  };
}

/** POSTs JSON to the gateway. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Reads an SSE body to the end (or to its abnormal end): the `data:` payloads and how it ended. */
export { readSse } from '../../simulator/faults/fault-harness.js';
