import type { CallSummary } from '../pipeline/call-summary.js';
import { KeyedRollingSums } from './rolling-sums.js';

/** One line of a tokens chart: a model or a caller, its hour's total and its tokens per minute. */
export interface TokenSeries {
  readonly key: string;
  readonly total: number;
  /** Tokens per minute over the last hour, oldest first (60 values). */
  readonly perMinute: readonly number[];
}

/** The last hour's tokens, by model and by caller. */
export interface TokenHistoryView {
  readonly byModel: readonly TokenSeries[];
  readonly byCaller: readonly TokenSeries[];
  /** Every call's tokens per minute, oldest first (60 values). */
  readonly totalPerMinute: readonly number[];
}

const MINUTE_MS = 60_000;
const KEYS_KEPT = 200;

/**
 * Tokens of the last hour per minute, by model (served, else asked) and by caller (user id), for the status
 * page's chart. Bounded: up to 200 models and 200 callers are told apart, the rest add up under `(other)`.
 *
 * @example
 * const tokens = new TokenHistory();
 * tokens.record(summary, clock.now());
 * tokens.view(clock.now(), 6); // the 6 largest models and callers
 */
export class TokenHistory {
  private readonly byModel = new KeyedRollingSums(MINUTE_MS, 60, KEYS_KEPT);
  private readonly byCaller = new KeyedRollingSums(MINUTE_MS, 60, KEYS_KEPT);
  private readonly total = new KeyedRollingSums(MINUTE_MS, 60, 1);

  record(summary: CallSummary, nowMs: number): void {
    const tokens = summary.usage?.totalTokens ?? 0;
    if (tokens <= 0) return;
    const model = summary.usage?.servedModel ?? summary.modelAsked ?? '(none)';
    this.byModel.add(model, nowMs, tokens);
    this.byCaller.add(summary.caller?.userId ?? '(anonymous)', nowMs, tokens);
    this.total.add('all', nowMs, tokens);
  }

  view(nowMs: number, limit: number): TokenHistoryView {
    const series = (rows: { key: string; total: number; series: number[] }[]): TokenSeries[] =>
      rows.map((r) => ({ key: r.key, total: r.total, perMinute: r.series }));
    return {
      byModel: series(this.byModel.top(nowMs, limit)),
      byCaller: series(this.byCaller.top(nowMs, limit)),
      totalPerMinute: this.total.top(nowMs, 1)[0]?.series ?? new Array<number>(60).fill(0),
    };
  }
}
