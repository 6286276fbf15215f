import type { UsageRecord } from '../core/usage/usage-record.js';

/** A time-range query over the ledger. */
export interface UsageQuery {
  /** Inclusive lower bound on `timestampMs`. */
  fromMs: number;
  /** Exclusive upper bound on `timestampMs`. */
  toMs: number;
  /** Only this caller's records (`caller.userId`). */
  userId?: string | undefined;
}

/**
 * Where usage records go, one per request, and where chargeback reads them back.
 *
 * Contract (checked by `describeUsageLedgerContract` in `usage-ledger.contract.ts` for every adapter):
 * - `append` never blocks the response path: it resolves once the record is accepted (buffered), not when
 *   it is durable. Adapters buffer with a bound; when the bound is reached `append` waits for room
 *   (back-pressure on the recording step, which runs after the response is sent) rather than lose records.
 * - A `query` sees every record appended before it (read-your-writes), in append order within the ledger,
 *   filtered to `fromMs <= timestampMs < toMs` (and `userId`). Records round-trip unchanged.
 * - `flush` resolves when every record appended before it is durable for the adapter.
 * - `close` flushes, then releases resources; `append` after `close` rejects. `close` is idempotent.
 *
 * Adapters: `MemoryUsageLedger` (bounded ring), `NdjsonUsageLedger` (append-only file), Table (later).
 */
export interface UsageLedger {
  /**
   * Accepts a record.
   *
   * @example
   * void ledger.append(record); // fire and forget on the response path; errors go to telemetry
   */
  append(record: UsageRecord): Promise<void>;
  /** Streams matching records. */
  query(query: UsageQuery): AsyncIterable<UsageRecord>;
  /** Makes every appended record durable. */
  flush(): Promise<void>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}
