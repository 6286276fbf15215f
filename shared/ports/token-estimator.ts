/**
 * Counts tokens in text the way a model's tokenizer would, for usage *estimates* only: used when a backend
 * reports no usage (old API version, a stream cut before its usage event). Implementations must be
 * synchronous, pure and safe for any input (special-token markers are counted as plain text).
 *
 * Adapters: `TiktokenTokenEstimator` (`shared/adapters/tokenizer/`), and the heuristic
 * `createHeuristicTokenEstimator()` in `shared/core/usage/` for hosts without a tokenizer.
 */
export interface TokenEstimator {
  /**
   * Number of tokens `text` encodes to for `model` (or a default encoding when the model is unknown).
   *
   * @example
   * estimator.countText('Hello, world!', 'gpt-4o'); // → 4
   */
  countText(text: string, model?: string): number;
}
