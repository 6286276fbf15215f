import type { AttemptRecord } from '../dispatch/dispatcher.js';
import type { CallSummary } from '../pipeline/call-summary.js';
import { RollingSums } from './rolling-sums.js';

/** One backend's last minute, as the status page shows it. */
export interface BackendActivityView {
  /**
   * Attempts that reached a verdict. One its caller or the shutdown drain stopped before the backend answered
   * (`caller-aborted`) says nothing of the backend: it is left out, so that it neither dilutes nor raises the
   * error rate.
   */
  readonly attempts: number;
  /**
   * Attempts that failed: failover or fatal (5xx, 429, timeouts, resets), a stream its backend cut mid-answer
   * (`stream-cut`) or a replay that differed (`diverged`). A stream the shutdown drain cut is not an error.
   */
  readonly errors: number;
  /** errors / attempts, 0..1 (0 without attempts). */
  readonly errorRate: number;
  /** Mean time to response headers of the minute's successful attempts, ms; null without any. */
  readonly latencyMs: number | null;
  /** The longest of them, ms; null without any. */
  readonly maxLatencyMs: number | null;
  /**
   * The last error seen (any age): an HTTP status (`"503"`), a transport failure (`"connect-refused"`),
   * `"stream-cut"` or `"diverged"`.
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

/**
 * The attempt whose answer its backend broke after the headers (a `cut` call the relay ended without a
 * recovery: the attempt still says `served`), or -1. Recovery marks the attempts it saw break itself.
 */
function brokenByBackend(summary: CallSummary): number {
  if (summary.outcome !== 'cut' || summary.cutReason === 'shutdown' || summary.backend === undefined) return -1;
  const i = summary.attempts.findLastIndex((a) => a.backend === summary.backend!.id);
  return i >= 0 && summary.attempts[i]!.outcome === 'served' ? i : -1;
}

/** The caller left, or the drain's cut stopped the call, while this attempt waited for its backend. */
function stoppedByUs(attempt: AttemptRecord): boolean {
  return attempt.error === 'caller-aborted';
}

/** The failure an attempt's outcome names, or undefined when it served. */
function failureCode(attempt: AttemptRecord): string | undefined {
  switch (attempt.outcome) {
    case 'served':
      return undefined;
    case 'cut':
      return 'stream-cut';
    case 'diverged':
      return 'diverged';
    default:
      return attempt.error ?? String(attempt.status ?? 'error');
  }
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

  /**
   * Counts the call's attempts (at the call's end time): one failure per failed attempt — a stream its backend
   * broke counts as that attempt failing (once, whether or not recovery marked it), a recovered call counts as
   * a success of the backend that finished it — and a stream the shutdown drain cut blames no backend. An
   * attempt stopped before its answer (the caller left, or the drain cut a call still waiting for its headers)
   * is not counted at all.
   */
  record(summary: CallSummary, nowMs: number): void {
    const broken = brokenByBackend(summary);
    summary.attempts.forEach((attempt, i) => {
      if (stoppedByUs(attempt)) return;
      const entry = this.entry(attempt.backend);
      entry.attempts.add(nowMs, 1);
      const failure = i === broken ? 'stream-cut' : failureCode(attempt);
      if (failure === undefined) {
        entry.okCount.add(nowMs, 1);
        entry.okLatency.add(nowMs, attempt.durationMs);
        this.raiseMax(entry.maxLatency, nowMs, attempt.durationMs);
      } else {
        entry.errors.add(nowMs, 1);
        entry.lastError = { code: failure, atMs: nowMs };
      }
    });
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
