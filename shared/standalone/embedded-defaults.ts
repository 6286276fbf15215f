import type { GatewayConfigInput } from '../config/gateway-schema.js';

/**
 * The configuration `npm start` uses when there is no `gateway.config.json`: two built-in simulator
 * backends in one pool (so failover can be seen) and a route that serves every model name.
 */
export function embeddedDefaults(simulatorUrls: readonly string[], port: number): GatewayConfigInput {
  return {
    server: { host: '127.0.0.1', port, mode: 'development' },
    backends: simulatorUrls.map((url, i) => ({
      id: `simulator-${String.fromCharCode(97 + i)}`,
      url,
      kind: 'openai' as const,
      group: 'primary',
      maxConcurrency: 64,
    })),
    pools: [{ id: 'default', backends: simulatorUrls.map((_, i) => `simulator-${String.fromCharCode(97 + i)}`) }],
    routes: [{ id: 'all-models', match: { models: ['*'] }, pool: 'default' }],
    // Local development only: anyone may call. Production configs name their callers (docs/governance.md).
    governance: { identity: { anonymous: { allowed: true } } },
  };
}
