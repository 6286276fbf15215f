/**
 * The shared health of backends: circuit-breaker state, Retry-After cooling, latency and the last
 * active probe. Every gateway instance reads it through a short-lived cache and writes it only when
 * something changes state (a breaker trips or closes, a backend starts cooling, a probe flips), so a
 * trip on one instance is seen by the others within about a second without a store round trip on
 * the hot path.
 *
 * Compatibility: {@link BackendHealth} is stored as JSON (one Table entity per backend in Azure).
 * Fields may be added (readers ignore unknown fields and tolerate missing optional ones); a field is
 * never renamed or given a new meaning. Times are epoch milliseconds.
 */

/** Breaker states. `half-open`: the open interval has elapsed and trial calls decide. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** The shared part of a backend's circuit breaker (the sliding window of outcomes stays per instance). */
export interface BackendBreakerRecord {
  readonly state: BreakerStateName;
  /** When the breaker last opened. */
  readonly openedAtMs?: number;
  /** When an open breaker admits a trial call. */
  readonly openUntilMs?: number;
  /** Opens since the breaker was last closed by a success; grows the open interval. */
  readonly consecutiveOpens: number;
}

/** The last active health probe of a backend. */
export interface BackendProbeRecord {
  readonly atMs: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** HTTP status; absent when the probe got no response (timeout, connection error). */
  readonly status?: number;
}

/**
 * One backend's shared health record.
 *
 * @example
 * const health: BackendHealth = {
 *   breaker: { state: 'open', openedAtMs: 1_700_000_000_000, openUntilMs: 1_700_000_030_000, consecutiveOpens: 1 },
 *   coolingUntilMs: 1_700_000_005_000,
 *   latencyEwmaMs: 840,
 *   version: 7,
 *   updatedAtMs: 1_700_000_000_000,
 * };
 */
export interface BackendHealth {
  readonly breaker: BackendBreakerRecord;
  /** The backend asked us (Retry-After on a 429/503) not to call it before this time. */
  readonly coolingUntilMs?: number;
  /** Exponentially weighted moving average of real call latency (time to response headers). */
  readonly latencyEwmaMs?: number;
  readonly lastProbe?: BackendProbeRecord;
  /**
   * Write counter, set by the store: 1 on creation, +1 on every write. Whatever a mutator puts here
   * is overwritten. Readers use it to tell newer records from ones already seen. (An adapter with
   * ETags, such as Azure Table, keeps the ETag internally.)
   */
  readonly version: number;
  /** When the writer last changed the record (set by the mutator from its clock). */
  readonly updatedAtMs: number;
}

/**
 * Reads and optimistically updates backend health records.
 *
 * `update` is a read-modify-write: the store reads the current record, calls `mutate`, and writes the
 * result only if nobody wrote in between; on a lost race it re-reads and calls `mutate` again. So
 * `mutate` must be pure (no side effects, same answer for the same input) and may run more than once.
 *
 * @example
 * await store.update('aoai-east', (current) =>
 *   current?.breaker.state === 'open'
 *     ? undefined // already open: no write
 *     : {
 *         breaker: { state: 'open', openedAtMs: now, openUntilMs: now + 30_000, consecutiveOpens: 1 },
 *         version: 0,
 *         updatedAtMs: now,
 *       },
 * );
 */
export interface BackendHealthStore {
  /** The records of the given backends; ids without a record are absent from the map. */
  read(backendIds: readonly string[]): Promise<Map<string, BackendHealth>>;
  /**
   * Applies `mutate` to the current record (undefined when there is none) and stores its result.
   * `mutate` returning undefined means "no change": nothing is written and the current record (or
   * undefined) is returned. Otherwise resolves to the record as stored (with the store's `version`).
   */
  update(
    backendId: string,
    mutate: (current: BackendHealth | undefined) => BackendHealth | undefined,
  ): Promise<BackendHealth | undefined>;
}
