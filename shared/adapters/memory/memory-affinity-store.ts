import type { Clock } from '../../core/clock.js';
import type { AffinityStore } from '../../ports/affinity-store.js';

/**
 * An in-process {@link AffinityStore}: a map with expiry, bounded to `maxEntries` (the oldest mapping is
 * dropped first — a Map keeps insertion order), and the billing marks of `claimOnce`, bounded the same way.
 *
 * @example
 * const affinity = new MemoryAffinityStore({ clock: systemClock, maxEntries: 100_000 });
 */
export class MemoryAffinityStore implements AffinityStore {
  private readonly entries = new Map<string, { backendId: string; expiresAtMs: number }>();
  private readonly claims = new Map<string, number>();
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: { clock: Clock; maxEntries?: number }) {
    this.clock = options.clock;
    this.maxEntries = Math.max(1, options.maxEntries ?? 100_000);
  }

  async get(stateId: string): Promise<string | undefined> {
    const entry = this.entries.get(stateId);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(stateId);
      return undefined;
    }
    return entry.backendId;
  }

  async claimOnce(stateId: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const until = this.claims.get(stateId);
    if (until !== undefined && until > now) return false;
    this.claims.delete(stateId);
    this.claims.set(stateId, now + ttlMs);
    // Bounded like the mappings: past the bound the oldest mark goes (its response may then bill once more).
    while (this.claims.size > this.maxEntries) this.claims.delete(this.claims.keys().next().value!);
    return true;
  }

  async set(stateId: string, backendId: string, ttlMs: number): Promise<void> {
    this.entries.delete(stateId);
    this.entries.set(stateId, { backendId, expiresAtMs: this.clock.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
