import type { Telemetry } from '../../ports/telemetry.js';
import type { UsageLedger } from '../../ports/usage-ledger.js';
import type { UsageExporter } from '../../ports/usage-exporter.js';
import type { Clock } from '../clock.js';
import type { QuotaReservation } from '../governance/quota-guard.js';
import { createBackgroundWrites, type BackgroundWrites } from '../resilience/background-writes.js';
import { usageRecordOf } from '../usage/record-call.js';
import { recordUsageTelemetry } from '../usage/usage-telemetry.js';
import type { UsageReading } from '../usage/usage-reading.js';
import type { UsageRecord } from '../usage/usage-record.js';
import type { CallSummary } from './call-summary.js';

/**
 * What a call holds until it ends — its capacity leases and its quota reservation — and how each ending
 * gives them back. Quota writes are best-effort: they never fail the call.
 *
 * @example
 * const holdings = new CallHoldings(writes);
 * holdings.reservation = await reserve(admission, context, routed.json);
 * holdings.leases = new CallLeases(deps, snapshot, call, context, routed.deadline, undefined);
 * // … the answer's body ended:
 * holdings.settle(response.status, usage);
 */
export class CallHoldings {
  /** The quota reservation, once taken. */
  reservation: QuotaReservation | undefined;
  /** The call's capacity leases, once it schedules. */
  leases: { release(): void } | undefined;
  /** The call's share of the request bytes buffered across calls (its body, held for failover). */
  body: { release(): void } | undefined;

  constructor(private readonly writes: BackgroundWrites = createBackgroundWrites()) {}

  /** The answer's body has ended: the lease goes back; the quota is charged what the backend produced, cut or not. */
  settle(status: number, usage: UsageReading): void {
    this.leases?.release();
    this.body?.release();
    const reservation = this.reservation;
    if (reservation === undefined) return;
    // An error answer costs nothing.
    if (status < 400) void this.writes.run('quota-settle', () => reservation.settle(usage.totalTokens));
    else void this.writes.run('quota-release', () => reservation.release());
  }

  /**
   * The call was handed to an async job: the quota is charged the reservation now, since the job runs later,
   * possibly elsewhere (a failed submission releases it through {@link releaseAll}).
   */
  chargeForJob(): void {
    // The job keeps its own copy of the body (payload store): this call's buffer is no longer held.
    this.body?.release();
    const reservation = this.reservation;
    this.reservation = undefined;
    if (reservation !== undefined)
      void this.writes.run('quota-settle', () => reservation.settle(reservation.reservedTokens));
  }

  /** The call failed before an answer went out: the lease and the whole reservation go back. */
  releaseAll(): void {
    this.leases?.release();
    this.body?.release();
    const reservation = this.reservation;
    if (reservation !== undefined) void this.writes.run('quota-release', () => reservation.release());
  }
}

/** Dependencies of {@link createCallRecorder}. */
export interface CallRecorderDeps {
  /** Not read: a record's time is its call's start (`CallSummary.startedAtMs`); accepted from older callers. */
  readonly clock?: Clock | undefined;
  /** Where usage records go (chargeback). */
  readonly ledger?: UsageLedger | undefined;
  /** Where each record is also exported (Event Hubs); it buffers, bounds and reports its own failures. */
  readonly usageExporter?: UsageExporter | undefined;
  /** The usage event, metrics and dependencies of each call. */
  readonly telemetry?: Telemetry | undefined;
  /** Counts and reports a ledger append that failed (never retried: the record would be billed twice). */
  readonly backgroundWrites?: BackgroundWrites | undefined;
  /** Called once per call after its record (tests, hosts). Must not throw. */
  readonly onCallEnd?: ((summary: CallSummary) => void) | undefined;
}

/** The record stage: one usage record per call. */
export interface CallRecorder {
  /** Records now (a call that ended in an error envelope). */
  record(summary: CallSummary): void;
  /** Records off the response path: the caller's last byte does not wait for the ledger or telemetry. */
  recordLater(summary: CallSummary): void;
}

/**
 * **record**: turns a finished call's summary into its usage record, appends it to the ledger (write
 * errors are counted and reported as lost writes), hands it to the usage exporter, sends its telemetry, then tells
 * `onCallEnd`.
 *
 * @example
 * const recorder = createCallRecorder({ ledger, telemetry });
 * recorder.recordLater(call.summary);
 */
export function createCallRecorder(deps: CallRecorderDeps): CallRecorder {
  const { ledger, telemetry, onCallEnd, usageExporter } = deps;
  const writes = deps.backgroundWrites ?? createBackgroundWrites({ telemetry });
  const record = (summary: CallSummary): void => {
    if (ledger !== undefined || telemetry !== undefined || usageExporter !== undefined) {
      const usage = usageRecordOf(summary);
      if (ledger !== undefined) appendToLedger(ledger, writes, usage);
      void usageExporter?.export(usage);
      if (telemetry !== undefined) recordUsageTelemetry(telemetry, usage);
    }
    onCallEnd?.(summary);
  };
  const idle =
    ledger === undefined && telemetry === undefined && usageExporter === undefined && onCallEnd === undefined;
  return {
    record,
    recordLater: (summary) => {
      if (!idle) setImmediate(record, summary);
    },
  };
}

/**
 * Appends a record to the ledger; a failed append is counted and reported (as {@link BackgroundWrites.run} does for
 * a write without retries) and never retried: the record would be billed twice. No async frame or closure of its
 * own: this runs once per call, and an append almost always only buffers the line.
 */
function appendToLedger(ledger: UsageLedger, writes: BackgroundWrites, usage: UsageRecord): void {
  let appended: Promise<void>;
  try {
    appended = ledger.append(usage);
  } catch (error) {
    appended = Promise.reject(error);
  }
  // A ledger outside the tree may return no promise (the old `await` accepted any value): nothing to wait for then.
  if (typeof (appended as Promise<void> | undefined)?.then !== 'function') return;
  appended.then(undefined, (error: unknown) =>
    writes.failed('usage-ledger', error, { requestId: usage.requestId, attempts: '1' }),
  );
}
