import type { GatewayConfig } from '../config/gateway-schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createBackgroundWrites, type BackgroundWrites } from '../core/resilience/background-writes.js';
import { createCorruptReads, type CorruptReads } from '../core/resilience/corrupt-reads.js';
import { HealthTracker } from '../core/resilience/health-tracker.js';
import { createLogTelemetry } from '../adapters/log/log-telemetry.js';
import { MemoryBackendHealthStore } from '../adapters/memory/memory-backend-health-store.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { RuntimeOptions } from './create-runtime.js';

/** What every part of the runtime is built on: the configuration, the clock and where problems are reported. */
export interface RuntimeBase {
  /** The current configuration snapshot (a getter: hot reload). */
  readonly config: () => GatewayConfig;
  /** The snapshot at start: what is fixed for the runtime's life reads it. */
  readonly initial: GatewayConfig;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly backgroundWrites: BackgroundWrites;
  readonly corruptReads: CorruptReads;
}

/** The runtime's base, from the options or the in-process defaults (exceptions logged, nothing else). */
export function runtimeBase(options: RuntimeOptions): RuntimeBase {
  const given = options.config;
  const config = typeof given === 'function' ? given : () => given;
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? createLogTelemetry({ kinds: new Set(['exception']) });
  return {
    config,
    initial: config(),
    clock,
    telemetry,
    backgroundWrites: options.backgroundWrites ?? createBackgroundWrites({ telemetry }),
    corruptReads: options.corruptReads ?? createCorruptReads({ telemetry }),
  };
}

/** The backends' health: the shared store (in memory by default) and the tracker over it. */
export function runtimeHealth(
  options: RuntimeOptions,
  { clock, telemetry, initial }: RuntimeBase,
): { readonly healthStore: BackendHealthStore; readonly health: HealthTracker } {
  const healthStore = options.healthStore ?? new MemoryBackendHealthStore();
  const health = new HealthTracker(
    {
      store: healthStore,
      clock,
      onError: (error, context) =>
        telemetry.exception(error, {
          component: 'health',
          operation: context.operation,
          backend: context.backendId ?? '',
        }),
    },
    { ...initial.resilience.health, breaker: initial.resilience.breaker },
  );
  return { healthStore, health };
}
