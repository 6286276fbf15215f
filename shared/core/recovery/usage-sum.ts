import { summariseUsageSource, type TokenFigureSource, type UsageReading } from '../usage/usage-reading.js';

/**
 * The usage of a recovered answer: the sum of its attempts (the broken one, usually estimated, and the one
 * that finished it — both were billed by their backends). A figure is `reported` only when every attempt
 * reported it; the model is the first attempt's (the one the caller's chunks name).
 *
 * @example
 * sumUsage(cutReading, recoveryReading).completionTokens; // → cut.completion + recovery.completion
 */
export function sumUsage(a: UsageReading, b: UsageReading): UsageReading {
  const promptSource = sumSource(a.promptSource, b.promptSource);
  const completionSource = sumSource(a.completionSource, b.completionSource);
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheCreationTokens: a.cacheCreationTokens + b.cacheCreationTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    servedModel: a.servedModel ?? b.servedModel,
    source: summariseUsageSource(promptSource, completionSource),
    promptSource,
    completionSource,
  };
}

function sumSource(a: TokenFigureSource, b: TokenFigureSource): TokenFigureSource {
  // A sum with any part not reported (estimated, or unknown and counted as 0) is not a reported figure.
  return a === b ? a : 'estimated';
}
