import { describe, expect, it } from 'vitest';
import { createHeuristicTokenEstimator } from './heuristic-token-estimator.js';
import { estimatePromptTokens } from './prompt-estimate.js';

/** Counts characters, so expectations are exact. */
const chars = { countText: (t: string) => t.length };

describe('estimatePromptTokens', () => {
  it('counts chat messages (string and part contents) plus per-message overhead', () => {
    const body = {
      messages: [
        { role: 'system', content: 'abc' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'de' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
      ],
    };
    expect(estimatePromptTokens(body, chars)).toBe('abc\nde'.length + 3 + 3 * 2);
  });

  it('counts completions prompts, Responses/embeddings input, Anthropic system and Gemini contents', () => {
    expect(estimatePromptTokens({ prompt: 'hello' }, chars)).toBe(5);
    expect(estimatePromptTokens({ input: ['ab', 'cd'] }, chars)).toBe(5);
    expect(estimatePromptTokens({ system: 'sys', messages: [{ role: 'user', content: 'u' }] }, chars)).toBe(
      'u\nsys'.length + 3 + 3 + 3,
    );
    expect(estimatePromptTokens({ contents: [{ role: 'user', parts: [{ text: 'gem' }] }] }, chars)).toBe(3 + 3 + 3);
  });

  it('returns undefined for bodies without a prompt', () => {
    expect(estimatePromptTokens({ model: 'x' }, chars)).toBeUndefined();
    expect(estimatePromptTokens('text', chars)).toBeUndefined();
  });

  it('works with the heuristic estimator', () => {
    expect(estimatePromptTokens({ prompt: 'abcdefgh' }, createHeuristicTokenEstimator())).toBe(2);
  });
});
