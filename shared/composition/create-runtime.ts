import type { GatewayConfig } from '../config/gateway-schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createBasicResiliencePolicy } from '../core/dispatch/basic-resilience-policy.js';
import { createGateway, type CallSummary, type Gateway } from '../core/gateway.js';
import type { BackendTransport } from '../ports/backend-transport.js';
import { createStaticCredentialProvider } from '../adapters/memory/static-credential-provider.js';
import { createUndiciBackendTransport } from '../adapters/undici/undici-backend-transport.js';

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** The configuration, or a getter returning the current snapshot (hot reload). */
  readonly config: GatewayConfig | (() => GatewayConfig);
  /** Environment for secrets (`env` references in backend auth). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly transport?: BackendTransport;
  readonly onCallEnd?: (summary: CallSummary) => void;
}

/** A built engine with everything it owns, ready for a host. */
export interface GatewayRuntime {
  readonly gateway: Gateway;
  config(): GatewayConfig;
  close(): Promise<void>;
}

/**
 * The composition root: the one place that picks adapters and builds the engine. Hosts (standalone,
 * Functions, tests) call it and only translate requests.
 *
 * @example
 * const runtime = createRuntime({ config, env: process.env });
 * const response = await runtime.gateway.handle(request);
 */
export function createRuntime(options: RuntimeOptions): GatewayRuntime {
  const config = typeof options.config === 'function' ? options.config : ((c) => () => c)(options.config);
  const clock = options.clock ?? systemClock;
  const transport = options.transport ?? createUndiciBackendTransport();
  const gateway = createGateway({
    config,
    transport,
    credentials: createStaticCredentialProvider(options.env ?? {}),
    clock,
    policy: createBasicResiliencePolicy(options.random ?? Math.random),
    onCallEnd: options.onCallEnd,
  });
  return {
    gateway,
    config,
    close: () => transport.close(),
  };
}
