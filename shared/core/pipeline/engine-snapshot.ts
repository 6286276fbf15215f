import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { PoolConfig } from '../../config/schema.js';
import type { BackendTransport } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import { createDispatcher, type Dispatcher } from '../dispatch/dispatcher.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import { createRouter, type Router } from '../routing/router.js';

/** What the engine derives once per configuration snapshot; a call keeps the snapshot it started with. */
export interface EngineSnapshot {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly dispatcher: Dispatcher;
  readonly pools: ReadonlyMap<string, PoolConfig>;
  /** Response headers never passed to the caller (lower-case). */
  readonly stripResponse: ReadonlySet<string>;
  /** Request headers never passed upstream (lower-case). */
  readonly stripRequest: ReadonlySet<string>;
}

/** Dependencies of {@link createEngineSnapshots}. */
export interface EngineSnapshotDeps {
  /** The current configuration; a reload hands out a new object. */
  readonly config: () => GatewayConfig;
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  readonly health: HealthTracker;
  readonly random: () => number;
}

/**
 * Answers the {@link EngineSnapshot} of the configuration in force, built once per configuration object
 * (a reload builds a new router and dispatcher; round-robin positions carry over).
 *
 * @example
 * const snapshot = createEngineSnapshots(deps);
 * const { router, dispatcher } = snapshot();
 */
export function createEngineSnapshots(deps: EngineSnapshotDeps): () => EngineSnapshot {
  const snapshots = new WeakMap<GatewayConfig, EngineSnapshot>();
  const roundRobin = new Map<string, number>();
  return () => {
    const config = deps.config();
    let s = snapshots.get(config);
    if (s === undefined) {
      s = {
        config,
        router: createRouter(config),
        dispatcher: createDispatcher({
          transport: deps.transport,
          credentials: deps.credentials,
          clock: deps.clock,
          health: deps.health,
          resilience: config.resilience,
          backends: new Map(config.backends.map((b) => [b.id, b])),
          random: deps.random,
          roundRobin,
        }),
        pools: new Map(config.pools.map((p) => [p.id, p])),
        stripResponse: new Set(config.headers.stripResponse.map((h) => h.toLowerCase())),
        stripRequest: new Set(config.headers.stripRequest.map((h) => h.toLowerCase())),
      };
      snapshots.set(config, s);
    }
    return s;
  };
}

const memberIdCache = new WeakMap<PoolConfig, string[]>();

/** The backend ids of a pool's members (cached per pool object). */
export function poolMemberIds(pool: PoolConfig): readonly string[] {
  let ids = memberIdCache.get(pool);
  if (ids === undefined) {
    ids = pool.backends.map((m) => (typeof m === 'string' ? m : m.backend));
    memberIdCache.set(pool, ids);
  }
  return ids;
}

/** Whether the pool `poolId` of the snapshot has `backendId` among its members. */
export function poolHas(s: EngineSnapshot, poolId: string, backendId: string): boolean {
  const pool = s.pools.get(poolId);
  return pool !== undefined && poolMemberIds(pool).includes(backendId);
}
