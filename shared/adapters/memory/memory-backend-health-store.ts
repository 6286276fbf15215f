import type { BackendHealth, BackendHealthStore } from '../../ports/backend-health-store.js';

/** Options of {@link MemoryBackendHealthStore}. */
export interface MemoryBackendHealthStoreOptions {
  /**
   * Yield to the event loop between reading and writing, the way a remote store would, so that
   * concurrent updates race and lose (and are re-applied) as they do against Azure Table. For tests of
   * the optimistic-concurrency path; off by default.
   */
  readonly simulateContention?: boolean;
  /** Attempts of one `update` before it gives up on a contended record (default 1000). */
  readonly maxUpdateAttempts?: number;
}

/**
 * In-process {@link BackendHealthStore}: the embedded default and the unit-test double. Records are
 * deep-copied in and out, so no caller can change stored state by holding a reference.
 *
 * @example
 * const store = new MemoryBackendHealthStore();
 * await store.update('aoai-east', () => ({
 *   breaker: { state: 'closed', consecutiveOpens: 0 },
 *   version: 0,
 *   updatedAtMs: 0,
 * }));
 * const health = await store.read(['aoai-east']);
 */
export class MemoryBackendHealthStore implements BackendHealthStore {
  private readonly records = new Map<string, BackendHealth>();
  private readonly simulateContention: boolean;
  private readonly maxUpdateAttempts: number;

  constructor(options: MemoryBackendHealthStoreOptions = {}) {
    this.simulateContention = options.simulateContention ?? false;
    this.maxUpdateAttempts = options.maxUpdateAttempts ?? 1_000;
  }

  read(backendIds: readonly string[]): Promise<Map<string, BackendHealth>> {
    const out = new Map<string, BackendHealth>();
    for (const id of backendIds) {
      const record = this.records.get(id);
      if (record !== undefined) out.set(id, structuredClone(record));
    }
    return Promise.resolve(out);
  }

  async update(
    backendId: string,
    mutate: (current: BackendHealth | undefined) => BackendHealth | undefined,
  ): Promise<BackendHealth | undefined> {
    for (let attempt = 0; attempt < this.maxUpdateAttempts; attempt++) {
      const current = this.records.get(backendId);
      const next = mutate(current === undefined ? undefined : structuredClone(current));
      if (next === undefined) return current === undefined ? undefined : structuredClone(current);
      // Why: a remote store has a round trip here, during which another writer may win; the version
      // check below is the ETag check of the Table adapter.
      if (this.simulateContention) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.records.get(backendId)?.version !== current?.version) continue;
      const stored: BackendHealth = { ...structuredClone(next), version: (current?.version ?? 0) + 1 };
      this.records.set(backendId, stored);
      return structuredClone(stored);
    }
    throw new Error(`MemoryBackendHealthStore: update of "${backendId}" lost ${this.maxUpdateAttempts} races in a row`);
  }
}
