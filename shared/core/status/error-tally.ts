import type { CallSummary } from '../pipeline/call-summary.js';
import { KeyedRollingSums } from './rolling-sums.js';

/** One error code's recent history. */
export interface ErrorCodeView {
  /** A `GW_ERR_*` code. */
  readonly code: string;
  readonly lastMinute: number;
  readonly last15Minutes: number;
  readonly sinceStart: number;
  readonly lastAtMs: number;
  /** The last call's status and request id (to find it in the usage records and logs). */
  readonly lastStatus: number;
  readonly lastRequestId: string;
}

interface Last {
  sinceStart: number;
  atMs: number;
  status: number;
  requestId: string;
}

/**
 * Calls that ended in a gateway error, by `GW_ERR_*` code: counts over the last minute and quarter hour,
 * since start, and the last occurrence. Bounded by the error registry's size (codes are a closed set).
 *
 * @example
 * const errors = new ErrorTally();
 * errors.record(summary, clock.now());
 * errors.view(clock.now()); // most frequent in the last 15 minutes first
 */
export class ErrorTally {
  private readonly minute = new KeyedRollingSums(5_000, 12, 100);
  private readonly quarter = new KeyedRollingSums(60_000, 15, 100);
  private readonly last = new Map<string, Last>();

  record(summary: CallSummary, nowMs: number): void {
    const code = summary.errorCode;
    if (code === undefined || !code.startsWith('GW_ERR_')) return;
    this.minute.add(code, nowMs, 1);
    this.quarter.add(code, nowMs, 1);
    const last = this.last.get(code);
    if (last === undefined) {
      if (this.last.size >= 100) return;
      this.last.set(code, { sinceStart: 1, atMs: nowMs, status: summary.status, requestId: summary.requestId });
    } else
      Object.assign(last, {
        sinceStart: last.sinceStart + 1,
        atMs: nowMs,
        status: summary.status,
        requestId: summary.requestId,
      });
  }

  /** Codes seen in the last 15 minutes, the most frequent first. */
  view(nowMs: number): ErrorCodeView[] {
    const minute = new Map(this.minute.top(nowMs, 100).map((r) => [r.key, r.total]));
    return this.quarter.top(nowMs, 100).flatMap(({ key, total }) => {
      const last = this.last.get(key);
      if (last === undefined) return [];
      return [
        {
          code: key,
          lastMinute: minute.get(key) ?? 0,
          last15Minutes: total,
          sinceStart: last.sinceStart,
          lastAtMs: last.atMs,
          lastStatus: last.status,
          lastRequestId: last.requestId,
        },
      ];
    });
  }
}
