import type { BackendConfig, PoolConfig } from '../../config/schema.js';

/** A pool member resolved against the backends: its weight and group, pool overrides applied. */
export interface PoolMember {
  readonly backend: BackendConfig;
  readonly weight: number;
  readonly group: string;
}

/** A pool's members grouped in the pool's group order (e.g. `ptu` before `payg`). */
export interface PoolGroups {
  readonly order: readonly string[];
  readonly members: ReadonlyMap<string, readonly PoolMember[]>;
}

const cache = new WeakMap<PoolConfig, PoolGroups>();

/**
 * Resolves a pool's members and groups; cached per (frozen) pool config object.
 *
 * @example
 * poolGroups(pool, backends).order // ['ptu', 'payg']
 */
export function poolGroups(pool: PoolConfig, backends: ReadonlyMap<string, BackendConfig>): PoolGroups {
  const cached = cache.get(pool);
  if (cached) return cached;
  const members = new Map<string, PoolMember[]>();
  const seen: string[] = [];
  for (const entry of pool.backends) {
    const id = typeof entry === 'string' ? entry : entry.backend;
    const backend = backends.get(id);
    if (backend === undefined) continue;
    const group = (typeof entry === 'string' ? undefined : entry.group) ?? backend.group;
    const weight = (typeof entry === 'string' ? undefined : entry.weight) ?? backend.weight;
    if (!members.has(group)) {
      members.set(group, []);
      seen.push(group);
    }
    members.get(group)!.push({ backend, weight, group });
  }
  const order = pool.groupOrder
    ? [...pool.groupOrder.filter((g) => members.has(g)), ...seen.filter((g) => !pool.groupOrder!.includes(g))]
    : seen;
  const result = { order, members };
  cache.set(pool, result);
  return result;
}
