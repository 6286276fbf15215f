import type { BackendConfig, PoolConfig } from '../../config/schema.js';
import type { SelectableBackend } from '../resilience/backend-selector.js';
import { poolGroups } from './pool-members.js';

/** A pool member as the selector sees it (group as its rank in the pool's group order), with its backend. */
export interface Candidate extends SelectableBackend {
  readonly backend: BackendConfig;
}

/**
 * The candidates of each pool of one configuration snapshot, built once per (frozen) pool object.
 *
 * @example
 * const candidates = poolCandidates(backendsById);
 * candidates(pool) // [{ id: 'ptu-east', group: 0, weight: 1, backend }, { id: 'payg', group: 1, … }]
 */
export function poolCandidates(backends: ReadonlyMap<string, BackendConfig>): (pool: PoolConfig) => Candidate[] {
  const byPool = new WeakMap<PoolConfig, Candidate[]>();
  return (pool) => {
    let list = byPool.get(pool);
    if (list === undefined) {
      const groups = poolGroups(pool, backends);
      list = groups.order.flatMap((group, index) =>
        (groups.members.get(group) ?? []).map((m) => ({
          id: m.backend.id,
          group: index,
          weight: m.weight,
          backend: m.backend,
        })),
      );
      byPool.set(pool, list);
    }
    return list;
  };
}

/**
 * The members this call may still try: only the pinned one (affinity: it holds the state the call refers
 * to), minus those spent in this call.
 *
 * @example
 * eligibleCandidates(candidates(pool), undefined, new Set(['silent-one'])) // every member but 'silent-one'
 */
export function eligibleCandidates(
  list: readonly Candidate[],
  pinnedBackendId: string | undefined,
  spent: ReadonlySet<string>,
): readonly Candidate[] {
  if (pinnedBackendId !== undefined) list = list.filter((c) => c.id === pinnedBackendId);
  if (spent.size > 0) list = list.filter((c) => !spent.has(c.id));
  return list;
}
