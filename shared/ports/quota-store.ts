/**
 * Token counters per quota key and time window, shared by every gateway instance. The one operation that
 * must be atomic is {@link QuotaStore.reserve}: check-and-add in one step, so that concurrent callers on
 * any number of instances can never both take the last of a budget.
 *
 * A shared implementation (Azure Table) keeps one entity per `(key, windowStartMs)` and does the
 * check-and-add as a read → conditional write with the entity's ETag, retrying on 412. Windows are
 * identified by their start, so a store never needs a clock; old windows may be deleted once they are
 * two windows old (nothing adjusts them later than that in practice).
 *
 * Contract: `shared/ports/quota-store.contract.ts`.
 *
 * @example
 * const windowStartMs = Math.floor(clock.now() / 60_000) * 60_000;
 * const r = await store.reserve('profile:batch:minute', windowStartMs, 1_200, 50_000);
 * if (!r.granted) throw new GatewayError('GW_ERR_QUOTA_EXCEEDED');
 * await store.adjust('profile:batch:minute', windowStartMs, actualTokens - 1_200);
 */
export interface QuotaStore {
  /**
   * Atomically adds `amount` to the window's counter when the budget allows it. Granted when
   * `used + amount <= limit`, or when the window is still empty (`used === 0`) so that a single request
   * larger than the whole budget runs once per window instead of never. A refusal changes nothing.
   */
  reserve(key: string, windowStartMs: number, amount: number, limit: number): Promise<QuotaReserveResult>;
  /**
   * Adds `delta` (negative to give tokens back) to the window's counter, unconditionally; the counter
   * never goes below 0. Returns the counter after the change.
   */
  adjust(key: string, windowStartMs: number, delta: number): Promise<number>;
  /** The window's counter (0 for a window never used). */
  used(key: string, windowStartMs: number): Promise<number>;
}

/** What {@link QuotaStore.reserve} answers. */
export interface QuotaReserveResult {
  readonly granted: boolean;
  /** The window's counter after the call (including `amount` when granted). */
  readonly used: number;
}
