import { describe, expect, it } from 'vitest';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';
import { PrefillRefusals } from './prefill-refusals.js';
import { sumUsage } from './usage-sum.js';

const reading = (prompt: number, completion: number, source: 'reported' | 'estimated'): UsageReading => ({
  ...emptyUsageReading('gpt-4o'),
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion,
  source,
  promptSource: source,
  completionSource: source,
});

describe('sumUsage', () => {
  it('adds every figure of both attempts', () => {
    expect(sumUsage(reading(10, 5, 'reported'), reading(12, 11, 'reported'))).toMatchObject({
      promptTokens: 22,
      completionTokens: 16,
      totalTokens: 38,
      source: 'reported',
      servedModel: 'gpt-4o',
    });
  });

  it('is estimated when any attempt was', () => {
    expect(sumUsage(reading(10, 5, 'estimated'), reading(12, 11, 'reported'))).toMatchObject({
      source: 'estimated',
      promptSource: 'estimated',
    });
  });
});

describe('PrefillRefusals', () => {
  it('remembers a refusal for its memory, then forgets it', () => {
    const refusals = new PrefillRefusals(1_000);
    refusals.remember('b', 5_000);
    expect(refusals.refuses('b', 5_999)).toBe(true);
    expect(refusals.refuses('a', 5_999)).toBe(false);
    expect(refusals.refuses('b', 6_000)).toBe(false);
  });
});
