/**
 * Where one token figure came from.
 * - `reported`: the backend said so in its response (`usage`, `usageMetadata`).
 * - `estimated`: the gateway counted it with a {@link TokenEstimator} because the backend said nothing.
 * - `none`: unknown (no report and no estimate possible); the figure is 0.
 */
export type TokenFigureSource = 'reported' | 'estimated' | 'none';

/**
 * Where a whole reading came from. `partial` means at least one of prompt/completion was reported and
 * the other was estimated or is unknown — reported and estimated numbers are never mixed silently.
 */
export type UsageSource = 'reported' | 'estimated' | 'partial' | 'none';

/**
 * The normalised token usage of one response, identical for every provider. JSON-serialisable.
 *
 * Normalisation rules (the same meaning whatever the backend):
 * - `promptTokens` includes cached and cache-creation input tokens (Anthropic reports them apart; we add them).
 * - `completionTokens` includes reasoning tokens (Gemini reports `thoughtsTokenCount` apart; we add it).
 * - `totalTokens` is the backend's total when reported, else `promptTokens + completionTokens`.
 * - Figures never reported and never estimated are 0, with their source `none`.
 *
 * @example
 * const r: UsageReading = { promptTokens: 12, completionTokens: 5, totalTokens: 17, cachedInputTokens: 0,
 *   cacheCreationTokens: 0, reasoningTokens: 0, servedModel: 'gpt-4o-2024-08-06', source: 'reported',
 *   promptSource: 'reported', completionSource: 'reported' };
 */
export interface UsageReading {
  /** Input tokens, cached ones included. */
  promptTokens: number;
  /** Output tokens, reasoning ones included. */
  completionTokens: number;
  /** Total tokens as the backend counted them (may exceed prompt + completion, e.g. Gemini tool-use prompts). */
  totalTokens: number;
  /**
   * Input tokens served from the prompt cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`, Gemini
   * `cachedContentTokenCount`).
   */
  cachedInputTokens: number;
  /** Input tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`); 0 elsewhere. */
  cacheCreationTokens: number;
  /** Output tokens spent on reasoning (`reasoning_tokens`, `thoughtsTokenCount`); part of `completionTokens`. */
  reasoningTokens: number;
  /** The model that actually answered, as the backend named it; `null` when the response did not say. */
  servedModel: string | null;
  /** Summary of {@link promptSource} and {@link completionSource}. */
  source: UsageSource;
  /** Where `promptTokens` came from. */
  promptSource: TokenFigureSource;
  /** Where `completionTokens` came from. */
  completionSource: TokenFigureSource;
}

/**
 * Usage figures as one backend message reports them, before merging. A later message overwrites only the
 * fields it carries (Anthropic: `message_start` has the input, `message_delta` the output).
 */
export interface PartialUsage {
  promptTokens?: number;
  /** Anthropic's `input_tokens`: input *excluding* cache reads and writes. */
  uncachedInputTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  cachedInputTokens?: number;
  cacheCreationTokens?: number;
  reasoningTokens?: number;
}

/** A reading with nothing known. */
export function emptyUsageReading(servedModel: string | null = null): UsageReading {
  return {
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    cachedInputTokens: 0,
    cacheCreationTokens: 0,
    reasoningTokens: 0,
    servedModel,
    source: 'none',
    promptSource: 'none',
    completionSource: 'none',
  };
}

/** Merges `next` into `base`: every field `next` carries wins (last non-null usage wins, field by field). */
export function mergePartialUsage(base: PartialUsage, next: PartialUsage): PartialUsage {
  const out: PartialUsage = { ...base };
  for (const key of Object.keys(next) as (keyof PartialUsage)[]) {
    const value = next[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Estimates used for figures the backend did not report. */
export interface UsageEstimates {
  /** Estimated prompt tokens, or undefined when no estimate is possible. */
  promptTokens?: number | undefined;
  /** Estimated completion tokens, or undefined when no estimate is possible. */
  completionTokens?: number | undefined;
}

/** Combines per-field sources into the summary {@link UsageSource}. */
export function summariseUsageSource(prompt: TokenFigureSource, completion: TokenFigureSource): UsageSource {
  if (prompt === 'reported' && completion === 'reported') return 'reported';
  if (prompt === 'reported' || completion === 'reported') return 'partial';
  if (prompt === 'estimated' || completion === 'estimated') return 'estimated';
  return 'none';
}

/**
 * Turns merged backend figures plus optional estimates into a {@link UsageReading}. Reported figures always
 * win; an estimate only fills a figure the backend did not report, and that figure's source says so.
 */
export function finaliseUsageReading(
  reported: PartialUsage,
  servedModel: string | null,
  estimates: UsageEstimates = {},
): UsageReading {
  const cachedInputTokens = reported.cachedInputTokens ?? 0;
  const cacheCreationTokens = reported.cacheCreationTokens ?? 0;
  let prompt: number | undefined = reported.promptTokens;
  if (reported.uncachedInputTokens !== undefined) {
    prompt = reported.uncachedInputTokens + cachedInputTokens + cacheCreationTokens;
  }
  let completion = reported.completionTokens;
  // Embeddings (and any body with prompt + total only): the completion is what the total leaves.
  if (completion === undefined && prompt !== undefined && reported.totalTokens !== undefined) {
    completion = Math.max(0, reported.totalTokens - prompt);
  }
  let promptSource: TokenFigureSource = 'reported';
  if (prompt === undefined) {
    prompt = estimates.promptTokens;
    promptSource = prompt === undefined ? 'none' : 'estimated';
  }
  let completionSource: TokenFigureSource = 'reported';
  if (completion === undefined) {
    completion = estimates.completionTokens;
    completionSource = completion === undefined ? 'none' : 'estimated';
  }
  const promptTokens = prompt ?? 0;
  const completionTokens = completion ?? 0;
  const bothReported = promptSource === 'reported' && completionSource === 'reported';
  return {
    promptTokens,
    completionTokens,
    totalTokens:
      bothReported && reported.totalTokens !== undefined ? reported.totalTokens : promptTokens + completionTokens,
    cachedInputTokens,
    cacheCreationTokens,
    reasoningTokens: reported.reasoningTokens ?? 0,
    servedModel,
    source: summariseUsageSource(promptSource, completionSource),
    promptSource,
    completionSource,
  };
}
