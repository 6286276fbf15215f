import type { BreakerStateName } from '../../ports/backend-health-store.js';
import type { BackendHealthView } from '../resilience/health-tracker.js';

/** A backend's breaker changed state. */
export interface BreakerTransition {
  readonly backendId: string;
  readonly from: BreakerStateName;
  readonly to: BreakerStateName;
  readonly atMs: number;
  /** Set when the breaker opened: when its trial becomes available. */
  readonly openUntilMs?: number;
}

/**
 * Turns health snapshots into breaker transitions (closed → open → half-open → closed), for the terminal's
 * one line per transition and the page's recent list (the last 20 kept). The effective state is compared,
 * so an open breaker whose interval has passed is reported half-open when it is next observed.
 *
 * @example
 * const watch = new BreakerWatch();
 * watch.onTransition((t) => log(`${t.backendId}: ${t.from} → ${t.to}`));
 * for (const id of ids) watch.observe(health.snapshot(id), clock.now());
 */
export class BreakerWatch {
  private readonly states = new Map<string, BreakerStateName>();
  private readonly recentTransitions: BreakerTransition[] = [];
  private readonly listeners = new Set<(transition: BreakerTransition) => void>();

  /** Compares the backend's state with the last one seen; a change is recorded and told to listeners. */
  observe(view: BackendHealthView, nowMs: number): void {
    const before = this.states.get(view.backendId);
    this.states.set(view.backendId, view.state);
    if (before === undefined || before === view.state) return;
    const transition: BreakerTransition = {
      backendId: view.backendId,
      from: before,
      to: view.state,
      atMs: nowMs,
      ...(view.state === 'open' && view.openUntilMs !== undefined ? { openUntilMs: view.openUntilMs } : {}),
    };
    this.recentTransitions.push(transition);
    if (this.recentTransitions.length > 20) this.recentTransitions.shift();
    for (const listener of this.listeners) listener(transition);
  }

  /** The last 20 transitions, oldest first. */
  recent(): readonly BreakerTransition[] {
    return [...this.recentTransitions];
  }

  /** Breakers open now among the observed backends. */
  openCount(): number {
    let open = 0;
    for (const state of this.states.values()) if (state === 'open') open += 1;
    return open;
  }

  /** Subscribes; returns the unsubscribe function. A throwing listener does not stop the others. */
  onTransition(listener: (transition: BreakerTransition) => void): () => void {
    const safe = (t: BreakerTransition): void => {
      try {
        listener(t);
      } catch {
        // A display listener must not break health observation.
      }
    };
    this.listeners.add(safe);
    return () => this.listeners.delete(safe);
  }

  /** Forgets backends no longer configured. */
  retain(backendIds: readonly string[]): void {
    const keep = new Set(backendIds);
    for (const id of [...this.states.keys()]) if (!keep.has(id)) this.states.delete(id);
  }
}
