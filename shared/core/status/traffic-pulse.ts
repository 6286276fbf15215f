import type { CallSummary } from '../pipeline/call-summary.js';
import { RollingSums } from './rolling-sums.js';

/** Traffic over a short window: what the terminal's status line prints. */
export interface TrafficPulse {
  readonly callsPerSec: number;
  /** Calls that ended in a gateway error or a 5xx within the window. */
  readonly errors: number;
  readonly tokensPerSec: number;
}

/**
 * Calls, errors and tokens per second over the last minute (1 s buckets), for the terminal's status line
 * and the page's headline.
 *
 * @example
 * const pulse = new TrafficPulseMeter();
 * pulse.record(summary, clock.now());
 * pulse.read(clock.now(), 5_000); // { callsPerSec, errors, tokensPerSec } over the last 5 s
 */
export class TrafficPulseMeter {
  private readonly calls = new RollingSums(1_000, 60);
  private readonly errors = new RollingSums(1_000, 60);
  private readonly tokens = new RollingSums(1_000, 60);

  record(summary: CallSummary, nowMs: number): void {
    this.calls.add(nowMs, 1);
    if (summary.errorCode !== undefined || summary.status >= 500) this.errors.add(nowMs, 1);
    const tokens = summary.usage?.totalTokens ?? 0;
    if (tokens > 0) this.tokens.add(nowMs, tokens);
  }

  /** The last `windowMs` (≤ 60 s, whole seconds). */
  read(nowMs: number, windowMs: number): TrafficPulse {
    const seconds = Math.max(1, Math.min(60, Math.round(windowMs / 1_000)));
    const round = (n: number): number => Math.round(n * 10) / 10;
    return {
      callsPerSec: round(this.calls.sum(nowMs, seconds * 1_000) / seconds),
      errors: this.errors.sum(nowMs, seconds * 1_000),
      tokensPerSec: round(this.tokens.sum(nowMs, seconds * 1_000) / seconds),
    };
  }
}
