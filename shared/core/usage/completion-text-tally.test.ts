import { describe, expect, it } from 'vitest';
import type { TokenEstimator } from '../../ports/token-estimator.js';
import { CompletionTextTally } from './completion-text-tally.js';

/** An estimator that records every text it is asked to count (one "token" per character). */
function recordingEstimator(): TokenEstimator & { texts: string[] } {
  const texts: string[] = [];
  const countText = (text: string): number => {
    texts.push(text);
    return text.length;
  };
  return { texts, countText };
}

/** The batches the tally must hand the estimator: pieces held since the last count, joined, cut at `maxChars`. */
function expectedBatches(pieces: string[], maxChars: number): string[] {
  const batches: string[] = [];
  let held = '';
  for (const piece of pieces) {
    held += piece;
    if (held.length >= maxChars) {
      batches.push(held);
      held = '';
    }
  }
  if (held.length > 0) batches.push(held);
  return batches;
}

describe('CompletionTextTally', () => {
  it('hands the estimator the same text in the same batches, however many pieces it held', () => {
    const pieces = Array.from({ length: 1_000 }, (_, i) => (i % 7 === 0 ? ` wörd${i} 👋` : ` w${i}`));
    for (const maxChars of [50, 333, 1_000, 64 * 1024]) {
      const estimator = recordingEstimator();
      const tally = new CompletionTextTally(estimator, 'gpt-4o', maxChars);
      for (const piece of pieces) tally.add(piece);
      const tokens = tally.tokens();
      expect(estimator.texts).toEqual(expectedBatches(pieces, maxChars));
      expect(tokens).toBe(pieces.join('').length);
      expect(tally.sawText).toBe(true);
    }
  });

  it('counts nothing twice: a count after a count sees only the text added since', () => {
    const estimator = recordingEstimator();
    const tally = new CompletionTextTally(estimator, undefined);
    for (let i = 0; i < 200; i++) tally.add('ab');
    expect(tally.tokens()).toBe(400);
    tally.add('cd');
    expect(tally.tokens()).toBe(402);
    expect(estimator.texts).toEqual(['ab'.repeat(200), 'cd']);
  });
});
