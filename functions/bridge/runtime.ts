import { loadConfig } from '../../shared/config/load-config.js';
import { createRuntime, type GatewayRuntime } from '../../shared/composition/create-runtime.js';

let runtime: GatewayRuntime | undefined;

/**
 * The Functions app's engine, built on first use (no I/O at import time) from `gateway.config.json`
 * beside the app (or `GATEWAY_CONFIG_FILE`) and `GATEWAY_*` app settings. A configuration with
 * problems fails every call with the list of problems in the log, rather than half-starting.
 */
export function functionsRuntime(): GatewayRuntime {
  if (runtime === undefined) {
    const result = loadConfig({ env: process.env });
    if (!result.ok) throw new Error(`gateway configuration (${result.source}) is invalid:\n${result.issues.join('\n')}`);
    runtime = createRuntime({ config: result.config, env: process.env });
  }
  return runtime;
}

/** Replaces the runtime (tests). */
export function setFunctionsRuntime(next: GatewayRuntime | undefined): void {
  runtime = next;
}
