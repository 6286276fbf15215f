import type { FunctionsHost } from './runtime.js';

/**
 * The Functions app's host ({@link import('./runtime.js').functionsHost}), with the composition root loaded
 * on first use rather than at import. The triggers import this module, not `runtime.js`: the host indexes
 * the app by importing `functions/index.js`, and everything imported there is start-up time (the Azure SDKs,
 * the telemetry exporter and the engine cost seconds). Later calls resolve from Node's module cache.
 */
export async function functionsHost(): Promise<FunctionsHost> {
  const runtime = await import('./runtime.js');
  return runtime.functionsHost();
}
