import type { CallSummary } from '../pipeline/call-summary.js';
import { RollingSums } from './rolling-sums.js';

/** One backend's last minute, as the status page shows it. */
export interface BackendActivityView {
  readonly attempts: number;
  /** Attempts that failed (failover or fatal: 5xx, 429, timeouts, resets) and streams cut mid-answer. */
  readonly errors: number;
  /** errors / attempts, 0..1 (0 without attempts). */
  readonly errorRate: number;
  /** Mean time to response headers of the minute's successful attempts, ms; null without any. */
  readonly latencyMs: number | null;
  /** The longest of them, ms; null without any. */
  readonly maxLatencyMs: number | null;
  /**
   * The last error seen (any age): an HTTP status (`"503"`), a transport failure (`"connect-refused"`) or
   * `"stream-cut"`.
   */
  readonly lastError: { readonly code: string; readonly atMs: number } | null;
}

interface Entry {
  readonly attempts: RollingSums;
  readonly errors: RollingSums;
  readonly okCount: RollingSums;
  readonly okLatency: RollingSums;
  readonly maxLatency: RollingSums;
  lastError: { code: string; atMs: number } | null;
}

const BUCKET_MS = 5_000;
const BUCKETS = 12;

/**
 * Per-backend attempt statistics over the last minute (12 buckets of 5 s), fed by call summaries: every
 * attempt of a call counts for its backend, including the failed ones before a failover.
 *
 * @example
 * const activity = new BackendActivity();
 * activity.record(summary, clock.now());
 * activity.view('aoai-east', clock.now()); // { attempts, errors, errorRate, latencyMs, lastError, … }
 */
export class BackendActivity {
  private readonly entries = new Map<string, Entry>();

  /** Counts the call's attempts (at the call's end time). */
  record(summary: CallSummary, nowMs: number): void {
    for (const attempt of summary.attempts) {
      const entry = this.entry(attempt.backend);
      entry.attempts.add(nowMs, 1);
      if (attempt.outcome === 'served') {
        entry.okCount.add(nowMs, 1);
        entry.okLatency.add(nowMs, attempt.durationMs);
        this.raiseMax(entry.maxLatency, nowMs, attempt.durationMs);
      } else {
        entry.errors.add(nowMs, 1);
        entry.lastError = { code: attempt.error ?? String(attempt.status ?? 'error'), atMs: nowMs };
      }
    }
    if (summary.outcome === 'cut' && summary.backend !== undefined) {
      const entry = this.entry(summary.backend.id);
      entry.errors.add(nowMs, 1);
      entry.lastError = { code: 'stream-cut', atMs: nowMs };
    }
  }

  /** The backend's last minute. */
  view(backendId: string, nowMs: number): BackendActivityView {
    const entry = this.entries.get(backendId);
    if (entry === undefined)
      return { attempts: 0, errors: 0, errorRate: 0, latencyMs: null, maxLatencyMs: null, lastError: null };
    const attempts = entry.attempts.sum(nowMs);
    const errors = entry.errors.sum(nowMs);
    const ok = entry.okCount.sum(nowMs);
    return {
      attempts,
      errors,
      errorRate: attempts === 0 ? 0 : Math.min(1, errors / attempts),
      latencyMs: ok === 0 ? null : Math.round(entry.okLatency.sum(nowMs) / ok),
      maxLatencyMs: ok === 0 ? null : Math.round(Math.max(...entry.maxLatency.series(nowMs))),
      lastError: entry.lastError,
    };
  }

  /** Forgets backends no longer configured. */
  retain(backendIds: readonly string[]): void {
    const keep = new Set(backendIds);
    for (const id of [...this.entries.keys()]) if (!keep.has(id)) this.entries.delete(id);
  }

  private entry(backendId: string): Entry {
    let entry = this.entries.get(backendId);
    if (entry === undefined) {
      const sums = (): RollingSums => new RollingSums(BUCKET_MS, BUCKETS);
      entry = {
        attempts: sums(),
        errors: sums(),
        okCount: sums(),
        okLatency: sums(),
        maxLatency: sums(),
        lastError: null,
      };
      this.entries.set(backendId, entry);
    }
    return entry;
  }

  /** A bucket of `sums` holds the largest value added, not the sum (the minute's maximum latency). */
  private raiseMax(sums: RollingSums, atMs: number, value: number): void {
    const current = sums.sum(atMs, sums.bucketMs);
    if (value > current) sums.add(atMs, value - current);
  }
}
