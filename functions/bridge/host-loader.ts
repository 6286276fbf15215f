import type { FunctionsHost } from './runtime.js';

let loaded: typeof import('./runtime.js') | undefined;

/**
 * The Functions app's host ({@link import('./runtime.js').functionsHost}), with the composition root loaded
 * on first use rather than at import. The triggers import this module, not `runtime.js`: the host indexes
 * the app by importing `functions/index.js`, and everything imported there is start-up time (the Azure SDKs,
 * the telemetry exporter and the engine cost seconds). Later calls resolve from Node's module cache.
 */
export async function functionsHost(): Promise<FunctionsHost> {
  loaded ??= await import('./runtime.js');
  return loaded.functionsHost();
}

/** The host if a trigger has built it (or is building it); never loads or builds it (the shutdown hook). */
export function builtFunctionsHost(): Promise<FunctionsHost> | undefined {
  return loaded?.builtFunctionsHost();
}
