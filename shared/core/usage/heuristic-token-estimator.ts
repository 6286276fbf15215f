import type { TokenEstimator } from '../../ports/token-estimator.js';

/**
 * A tokenizer-free {@link TokenEstimator}: one token per `charsPerToken` UTF-16 characters (default 4,
 * OpenAI's rule of thumb for English). For hosts that do not load a real tokenizer.
 *
 * @example
 * const estimator = createHeuristicTokenEstimator();
 * estimator.countText('abcdefgh'); // → 2
 */
export function createHeuristicTokenEstimator(options: { charsPerToken?: number } = {}): TokenEstimator {
  const charsPerToken = options.charsPerToken ?? 4;
  return { countText: (text) => Math.ceil(text.length / charsPerToken) };
}
