import type { BackendHealthView } from './health-tracker.js';

/** How backends inside one priority group are ordered. */
export type LoadBalancingMode = 'weighted-random' | 'round-robin' | 'lowest-latency';

/** The fields selection needs; the dispatch loop's backend objects may carry more. */
export interface SelectableBackend {
  readonly id: string;
  /** Priority group order: lower groups are tried first (e.g. 0 = PTU, 1 = pay-as-you-go). */
  readonly group: number;
  /** Relative share in `weighted-random` mode; 0 drains the backend (never selected). */
  readonly weight: number;
}

/** Input of {@link selectBackends}. */
export interface BackendSelectionInput<B extends SelectableBackend> {
  /** The pool's backends, in configuration order (ties keep this order). */
  readonly backends: readonly B[];
  /** Health views by backend id (from `HealthTracker.snapshot`); a missing id counts as healthy and unmeasured. */
  readonly health: ReadonlyMap<string, BackendHealthView>;
  readonly mode: LoadBalancingMode;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** The pool's round-robin counter; store `nextRoundRobinCounter` back. */
  readonly roundRobinCounter: number;
  /** Used when no backend is usable, to say when one will be. */
  readonly nowMs: number;
}

/** The outcome of {@link selectBackends}. */
export type BackendSelection<B extends SelectableBackend> =
  | {
      readonly ok: true;
      /** Backends to try, in order. */ readonly plan: readonly B[];
      readonly nextRoundRobinCounter: number;
    }
  | {
      readonly ok: false;
      /**
       * `no-backends`: nothing configured (or every weight 0). `all-cooling`: every backend is cooling
       * and none has an open breaker (answer 429). `all-open`: otherwise (answer 503).
       */
      readonly reason: 'no-backends' | 'all-open' | 'all-cooling';
      /** When the first backend becomes usable: the `retry-after` to answer with. */
      readonly retryAtMs?: number;
      readonly nextRoundRobinCounter: number;
    };

/**
 * Orders a pool's backends into an attempt plan: priority groups in ascending order; inside a group
 * by `mode`; backends that are open (without an available trial) or cooling are left out; weight 0
 * is left out. Pure: randomness and the round-robin counter are passed in.
 *
 * - `weighted-random`: weighted sampling without replacement, so the first pick follows the weights
 *   and the rest of the group follows as fallbacks.
 * - `round-robin`: the group's usable backends rotated by the pool counter (weights ignored).
 * - `lowest-latency`: ascending latency EWMA of real calls, falling back to the last probe's latency;
 *   backends with neither come first so that they get measured.
 *
 * @example
 * const selection = selectBackends({
 *   backends,
 *   health,
 *   mode: 'weighted-random',
 *   random: Math.random,
 *   roundRobinCounter,
 *   nowMs: clock.now(),
 * });
 * if (!selection.ok) {
 *   const code = selection.reason === 'all-cooling' ? 'GW_ERR_BACKEND_THROTTLED' : 'GW_ERR_BACKEND_ALL_OPEN';
 *   throw new GatewayError(code, { retryAfterMs: (selection.retryAtMs ?? now) - now });
 * }
 */
export function selectBackends<B extends SelectableBackend>(input: BackendSelectionInput<B>): BackendSelection<B> {
  const nextRoundRobinCounter = input.mode === 'round-robin' ? input.roundRobinCounter + 1 : input.roundRobinCounter;
  const only = input.backends.length === 1 ? input.backends[0]! : undefined;
  // One usable backend (a pool of one, or one left): the plan is that backend. `random` is still drawn once, as
  // the weighted order draws it once for a group of one, so that the draws after it stay the same.
  if (only !== undefined && only.weight > 0 && (input.health.get(only.id)?.usable ?? true)) {
    if (input.mode === 'weighted-random') input.random();
    return { ok: true, plan: [only], nextRoundRobinCounter };
  }
  const candidates = input.backends.filter((b) => b.weight > 0);
  if (candidates.length === 0) return { ok: false, reason: 'no-backends', nextRoundRobinCounter };

  const usable = candidates.filter((b) => input.health.get(b.id)?.usable ?? true);
  if (usable.length === 0) {
    let retryAtMs = Number.POSITIVE_INFINITY;
    let anyOpen = false;
    for (const b of candidates) {
      const view = input.health.get(b.id);
      if (view === undefined) continue;
      retryAtMs = Math.min(retryAtMs, view.availableAtMs);
      if (view.state !== 'closed' && !view.trialAvailable) anyOpen = true;
    }
    return {
      ok: false,
      reason: anyOpen ? 'all-open' : 'all-cooling',
      ...(Number.isFinite(retryAtMs) ? { retryAtMs: Math.max(retryAtMs, input.nowMs) } : {}),
      nextRoundRobinCounter,
    };
  }

  const groups = [...new Set(usable.map((b) => b.group))].sort((x, y) => x - y);
  const plan: B[] = [];
  for (const group of groups) {
    const members = usable.filter((b) => b.group === group);
    plan.push(...orderGroup(members, input));
  }
  return { ok: true, plan, nextRoundRobinCounter };
}

function orderGroup<B extends SelectableBackend>(members: B[], input: BackendSelectionInput<B>): B[] {
  switch (input.mode) {
    case 'round-robin': {
      const offset = ((input.roundRobinCounter % members.length) + members.length) % members.length;
      return [...members.slice(offset), ...members.slice(0, offset)];
    }
    case 'lowest-latency': {
      const latency = (b: B): number => {
        const view = input.health.get(b.id);
        return view?.latencyEwmaMs ?? view?.lastProbe?.latencyMs ?? Number.NEGATIVE_INFINITY;
      };
      return members
        .map((b, index) => ({ b, index, latency: latency(b) }))
        .sort((x, y) => x.latency - y.latency || x.index - y.index)
        .map((x) => x.b);
    }
    case 'weighted-random': {
      const remaining = [...members];
      const ordered: B[] = [];
      // Bounded: one member leaves `remaining` per iteration.
      while (remaining.length > 0) {
        const total = remaining.reduce((sum, b) => sum + b.weight, 0);
        let point = Math.min(Math.max(input.random(), 0), 1) * total;
        let index = remaining.length - 1;
        for (let i = 0; i < remaining.length; i++) {
          point -= remaining[i]!.weight;
          if (point < 0) {
            index = i;
            break;
          }
        }
        ordered.push(...remaining.splice(index, 1));
      }
      return ordered;
    }
  }
}
