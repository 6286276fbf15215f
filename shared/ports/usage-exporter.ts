import type { UsageRecord } from '../core/usage/usage-record.js';

/** What a usage exporter has done since it started: the status page and the metrics read it. */
export interface UsageExportStats {
  /** Which exporter, without secrets (`event-hubs:gw-ns.servicebus.windows.net/gateway-usage`). */
  readonly name: string;
  /** Records accepted and not yet sent. */
  readonly buffered: number;
  /** Records the destination acknowledged. */
  readonly sent: number;
  /** Send attempts that failed; their records stay buffered and are sent again. */
  readonly failedSends: number;
  /** Records that found the buffer full and had to wait for room (back-pressure). */
  readonly backPressure: number;
  /** Records given up: the buffer and its waiting room were full, a record was too large, or unsent at close. */
  readonly dropped: number;
  /** The most recent failure, when there was one. */
  readonly lastError?: { readonly atMs: number; readonly message: string };
}

/**
 * A destination that usage records are copied to for chargeback pipelines (Event Hubs → Data Explorer),
 * beside the queryable {@link UsageLedger}. An export is at-least-once: a batch retried after a timeout
 * may arrive twice, so readers de-duplicate on `requestId`.
 *
 * Contract: `export` never throws and never waits on the network. It resolves once the record is buffered;
 * when the bounded buffer is full it waits for room (back-pressure on the recording step, which runs after
 * the response), and past a bounded waiting room it drops the record — counted in `dropped` and reported,
 * never silently. Failed sends are retried with backoff while the records stay buffered. `close` sends what
 * it can within its deadline and counts the rest as dropped.
 */
export interface UsageExporter {
  /**
   * Accepts a record.
   *
   * @example
   * void exporter.export(record); // off the response path, like ledger.append
   */
  export(record: UsageRecord): Promise<void>;
  /** Counters for the status page and metrics. */
  stats(): UsageExportStats;
  /** Sends everything buffered now; rejects with the send error (the records stay buffered). */
  flush(): Promise<void>;
  /** Stops the background sends, sends what is buffered within the deadline, and releases the connection. */
  close(): Promise<void>;
}
