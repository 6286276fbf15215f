import type { UsageRecord } from './usage-record.js';

/** What rows are grouped by. */
export type ChargebackDimension = 'user' | 'tier' | 'model' | 'backend' | 'group' | 'profile' | 'app';

/** Price of one model, in currency units per 1,000 tokens. */
export interface ModelPrice {
  /** Uncached input tokens. */
  inputPer1k: number;
  /** Cached input tokens (defaults to `inputPer1k`). */
  cachedInputPer1k?: number | undefined;
  /** Input tokens written to a prompt cache (Anthropic; defaults to `inputPer1k`). */
  cacheWritePer1k?: number | undefined;
  /** Output tokens, reasoning included. */
  outputPer1k: number;
}

/** Options of {@link aggregateUsage}. */
export interface ChargebackOptions {
  by: ChargebackDimension;
  /**
   * Prices by model. A record's model (served, else requested) matches a key exactly, else the longest key
   * that is a prefix followed by `-` (`gpt-4o` prices `gpt-4o-2024-08-06`; `gpt-4o-mini` wins over `gpt-4o`
   * for `gpt-4o-mini-2024-07-18`).
   */
  prices?: Readonly<Record<string, ModelPrice>> | undefined;
}

/** One chargeback row. Token sums include estimated figures; `estimatedRequests` says how many. */
export interface ChargebackRow {
  /** The group's key; `(none)` when the records lack it. */
  key: string;
  requests: number;
  promptTokens: number;
  cachedInputTokens: number;
  cacheCreationTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  /** Requests with at least one estimated figure (source `estimated` or `partial`). */
  estimatedRequests: number;
  /** Requests with tokens but no price for their model (not in `cost`). */
  unpricedRequests: number;
  /**
   * Cost in the prices' currency, rounded to 1e-6; present only when prices were given. `null` when the row
   * has tokens but none of its requests had a price (shown as "unpriced", never as a cost of 0).
   */
  cost?: number | null;
}

/** The key placeholder for records without a value in the chosen dimension. */
export const NO_KEY = '(none)';

function keyOf(record: UsageRecord, by: ChargebackDimension): string {
  const key = {
    user: record.caller.userId,
    tier: record.caller.tier,
    profile: record.caller.profileId,
    app: record.caller.appId,
    model: record.modelServed ?? record.modelRequested,
    backend: record.backend?.name ?? null,
    group: record.backend?.group ?? null,
  }[by];
  return key ?? NO_KEY;
}

/** The price that applies to `model`, per {@link ChargebackOptions.prices}. */
export function findModelPrice(
  prices: Readonly<Record<string, ModelPrice>>,
  model: string | null,
): ModelPrice | undefined {
  if (model === null) return undefined;
  const exact = prices[model];
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const key of Object.keys(prices)) {
    if (model.startsWith(`${key}-`) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : prices[best];
}

/** The cost of one record's tokens at `price`. */
export function recordCost(record: UsageRecord, price: ModelPrice): number {
  const t = record.tokens;
  const cached = Math.min(t.cachedInputTokens, t.promptTokens);
  const written = Math.min(t.cacheCreationTokens, t.promptTokens - cached);
  const uncached = t.promptTokens - cached - written;
  return (
    (uncached * price.inputPer1k +
      cached * (price.cachedInputPer1k ?? price.inputPer1k) +
      written * (price.cacheWritePer1k ?? price.inputPer1k) +
      t.completionTokens * price.outputPer1k) /
    1000
  );
}

/**
 * Incremental chargeback aggregation, for streaming a ledger query through it without holding records.
 *
 * @example
 * const agg = createUsageAggregator({ by: 'user', prices });
 * for await (const r of ledger.query({ fromMs, toMs })) agg.add(r);
 * const rows = agg.rows();
 */
export function createUsageAggregator(options: ChargebackOptions): {
  add(record: UsageRecord): void;
  rows(): ChargebackRow[];
} {
  const rows = new Map<string, ChargebackRow & { rawCost: number; pricedRequests: number }>();
  const priced = options.prices !== undefined;
  return {
    add(record) {
      const key = keyOf(record, options.by);
      let row = rows.get(key);
      if (row === undefined) {
        row = {
          key,
          requests: 0,
          promptTokens: 0,
          cachedInputTokens: 0,
          cacheCreationTokens: 0,
          completionTokens: 0,
          reasoningTokens: 0,
          totalTokens: 0,
          estimatedRequests: 0,
          unpricedRequests: 0,
          rawCost: 0,
          pricedRequests: 0,
        };
        rows.set(key, row);
      }
      const t = record.tokens;
      row.requests++;
      row.promptTokens += t.promptTokens;
      row.cachedInputTokens += t.cachedInputTokens;
      row.cacheCreationTokens += t.cacheCreationTokens;
      row.completionTokens += t.completionTokens;
      row.reasoningTokens += t.reasoningTokens;
      row.totalTokens += t.totalTokens;
      if (t.promptSource === 'estimated' || t.completionSource === 'estimated') row.estimatedRequests++;
      if (options.prices !== undefined && (t.promptTokens > 0 || t.completionTokens > 0)) {
        const price = findModelPrice(options.prices, record.modelServed ?? record.modelRequested);
        if (price === undefined) row.unpricedRequests++;
        else {
          row.rawCost += recordCost(record, price);
          row.pricedRequests++;
        }
      }
    },
    rows() {
      return [...rows.values()]
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map(({ rawCost, pricedRequests, ...row }) =>
          !priced
            ? row
            : {
                ...row,
                cost: pricedRequests === 0 && row.unpricedRequests > 0 ? null : Math.round(rawCost * 1e6) / 1e6,
              },
        );
    },
  };
}

/**
 * Pure chargeback: groups records by a dimension and sums their tokens (and cost, with prices). Rows are
 * sorted by key. Records of every outcome count as requests; their tokens are what the answered attempt
 * used (cut and caller-aborted calls bill what was produced; rejected/failed calls carry none).
 *
 * @example
 * const prices = { 'gpt-4o': { inputPer1k: 0.0025, cachedInputPer1k: 0.00125, outputPer1k: 0.01 } };
 * aggregateUsage(records, { by: 'model', prices });
 */
export function aggregateUsage(records: Iterable<UsageRecord>, options: ChargebackOptions): ChargebackRow[] {
  const agg = createUsageAggregator(options);
  for (const r of records) agg.add(r);
  return agg.rows();
}
