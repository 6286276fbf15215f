import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { KEYS } from './saturation-gateway.js';

/** What the replicas of the shared-capacity scenario run with. */
export interface SharedCapacityConfigOptions {
  /** Pool id (unique per run: replicas of other runs on the same storage never meet it). */
  readonly poolId: string;
  /** Backend id → URL; every backend takes `perBackend` calls at once. */
  readonly backends: Readonly<Record<string, string>>;
  readonly perBackend: number;
  readonly sharing: NonNullable<NonNullable<GatewayConfigInput['scheduling']>['sharing']>;
}

/**
 * One pool of simulated backends in one group, a catch-all model route, the saturation suite's callers
 * (API key `search` → level 1, `etl` → level 3) and admin key, loopback port 0, and capacity sharing on
 * with the given timings. Every replica serves the same file, as a deployment's replicas would.
 */
export function sharedCapacityConfig(options: SharedCapacityConfigOptions): GatewayConfigInput {
  const ids = Object.keys(options.backends);
  return {
    server: { host: '127.0.0.1', port: 0 },
    backends: ids.map((id) => ({ id, url: options.backends[id]!, kind: 'openai', maxConcurrency: options.perBackend })),
    pools: [{ id: options.poolId, backends: ids }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: options.poolId }],
    scheduling: {
      levels: 3,
      defaultLevel: 2,
      // No aging within the run: the levels are seen on their own.
      agingStepMs: 60_000,
      userShareRatio: 1,
      maxQueueDepth: 5_000,
      leaseTtlMs: 120_000,
      sharing: options.sharing,
    },
    usage: { ledger: { kind: 'memory' } },
    governance: {
      identity: {
        apiKeys: {
          enabled: true,
          keys: [
            { id: 'search', sha256: hashApiKey(KEYS.search), profile: 'interactive', userId: 'search' },
            { id: 'etl', sha256: hashApiKey(KEYS.etl), profile: 'batch', userId: 'etl' },
          ],
        },
      },
      tiers: { interactive: 1, standard: 2, batch: 3 },
      profiles: [
        { id: 'interactive', tier: 'interactive' },
        { id: 'batch', tier: 'batch' },
      ],
      admin: { keys: [{ id: 'ops', sha256: hashApiKey(KEYS.admin) }] },
    },
  };
}
