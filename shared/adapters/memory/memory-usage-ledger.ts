import type { UsageRecord } from '../../core/usage/usage-record.js';
import type { UsageLedger, UsageQuery } from '../../ports/usage-ledger.js';

/** Options of {@link createMemoryUsageLedger}. */
export interface MemoryUsageLedgerOptions {
  /** Records kept; the oldest is evicted beyond this (default 10,000). */
  maxRecords?: number;
}

/** The in-memory ledger, with its eviction counter. */
export interface MemoryUsageLedger extends UsageLedger {
  /** Records evicted because the ring was full. */
  readonly evictedRecords: number;
  /** Records currently held. */
  readonly size: number;
}

/**
 * An in-process {@link UsageLedger}: a bounded ring of the most recent records, for the embedded default,
 * the admin usage view and tests. Not durable; records past `maxRecords` evict the oldest (counted).
 *
 * @example
 * const ledger = createMemoryUsageLedger({ maxRecords: 50_000 });
 * void ledger.append(record);
 */
export function createMemoryUsageLedger(options: MemoryUsageLedgerOptions = {}): MemoryUsageLedger {
  const capacity = Math.max(1, options.maxRecords ?? 10_000);
  const ring: (UsageRecord | undefined)[] = new Array<UsageRecord | undefined>(capacity);
  let start = 0;
  let size = 0;
  let evicted = 0;
  let closed = false;
  return {
    get evictedRecords() {
      return evicted;
    },
    get size() {
      return size;
    },
    append(record) {
      if (closed) return Promise.reject(new Error('The usage ledger is closed.'));
      // Stored as a deep copy so a caller mutating its object later cannot change the ledger.
      const copy = structuredClone(record);
      if (size < capacity) {
        ring[(start + size) % capacity] = copy;
        size++;
      } else {
        ring[start] = copy;
        start = (start + 1) % capacity;
        evicted++;
      }
      return Promise.resolve();
    },
    async *query(query: UsageQuery) {
      const snapshot: UsageRecord[] = [];
      for (let i = 0; i < size; i++) {
        const r = ring[(start + i) % capacity];
        if (r === undefined || r.timestampMs < query.fromMs || r.timestampMs >= query.toMs) continue;
        if (query.userId !== undefined && r.caller.userId !== query.userId) continue;
        snapshot.push(structuredClone(r));
      }
      yield* snapshot;
    },
    flush() {
      return Promise.resolve();
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
