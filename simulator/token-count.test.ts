import { describe, expect, it } from 'vitest';
import { completionText, completionTokenText, countPromptTokens, tokensForChars } from './token-count.js';

describe('countPromptTokens', () => {
  it.each([
    ['chat', { messages: [{ role: 'user', content: 'Hello there!' }] }, 3],
    [
      'chat',
      {
        messages: [
          { role: 'system', content: 'abcd' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'efgh' },
              { type: 'image_url', image_url: { url: 'http://x/very/long/url' } },
            ],
          },
        ],
      },
      2,
    ],
    ['chat', { messages: [] }, 1],
    ['chat', {}, 1],
    ['completions', { prompt: 'abcdefghi' }, 3],
    ['completions', { prompt: ['abcd', 'efgh'] }, 2],
    ['embeddings', { input: [1, 2, 3, 4, 5] }, 5],
    ['embeddings', { input: ['abcd', 'abcdefgh'] }, 3],
    ['responses', { instructions: 'abcd', input: 'abcd' }, 2],
    ['responses', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'abcdefgh' }] }] }, 2],
    ['anthropic', { system: 'abcd', messages: [{ role: 'user', content: [{ type: 'text', text: 'abcd' }] }] }, 2],
    ['anthropic', { system: [{ type: 'text', text: 'abcdefgh' }], messages: [{ role: 'user', content: 'abcd' }] }, 3],
    [
      'gemini',
      { systemInstruction: { parts: [{ text: 'abcd' }] }, contents: [{ role: 'user', parts: [{ text: 'abcde' }] }] },
      3,
    ],
  ] as const)('%s %j → %d', (api, body, expected) => {
    expect(countPromptTokens(api, body)).toBe(expected);
  });

  it('is ceil(chars / 4) with a minimum of 1', () => {
    expect([0, 1, 4, 5, 8, 9].map(tokensForChars)).toEqual([1, 1, 1, 2, 2, 3]);
  });
});

describe('completion text', () => {
  it('is one word per token and the concatenation of the token texts', () => {
    expect(completionTokenText(0)).toBe('Hello');
    expect(completionTokenText(1)).toBe(' from');
    expect(completionTokenText(20)).toBe(' Hello');
    const tokens = Array.from({ length: 45 }, (_, i) => completionTokenText(i)).join('');
    expect(completionText(45)).toBe(tokens);
    expect(completionText(0)).toBe('');
  });
});
