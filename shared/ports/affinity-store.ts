/**
 * Remembers which backend holds a piece of server-side state (a Responses API response, a file, a
 * thread, a batch…), so that a later call referring to it goes to the same backend. The memory adapter
 * serves one instance; `TableAffinityStore` shares the mapping across instances.
 *
 * Compatibility: keys are the provider's own ids (`resp_…`, `file-…`, `thread_…`); values are backend
 * ids from the configuration.
 */
export interface AffinityStore {
  /** The backend that created `stateId`, if known and not expired. */
  get(stateId: string): Promise<string | undefined>;
  /** Records that `backendId` holds `stateId` for `ttlMs`. */
  set(stateId: string, backendId: string, ttlMs: number): Promise<void>;
  /**
   * Marks `stateId`'s usage as billed for `ttlMs`: true for the one caller that set the mark (an atomic
   * insert across instances), false while a mark lives. Apart from {@link get}/{@link set}: a state id may be
   * billed without affinity and the other way round. Used so that a background response is billed once.
   */
  claimOnce(stateId: string, ttlMs: number): Promise<boolean>;
}
