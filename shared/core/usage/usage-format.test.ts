import { describe, expect, it } from 'vitest';
import { detectUsageFormat } from './usage-format.js';

describe('detectUsageFormat', () => {
  it.each([
    ['/v1/chat/completions', 'text/event-stream; charset=utf-8', 'openai-chat', 'sse'],
    ['/v1/chat/completions', 'application/json', 'openai-chat', 'json'],
    ['/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', 'text/event-stream', 'openai-chat', 'sse'],
    [
      '/openai/deployments/instruct/completions?api-version=2024-10-21',
      'application/json',
      'openai-completions',
      'json',
    ],
    ['/openai/deployments/embed/embeddings?api-version=2024-10-21', 'application/json', 'openai-embeddings', 'json'],
    ['/v1/embeddings', null, 'openai-embeddings', 'json'],
    ['/v1/responses', 'text/event-stream', 'openai-responses', 'sse'],
    ['/openai/v1/responses/resp_123', 'application/json', 'openai-responses', 'json'],
    ['/v1/messages', 'text/event-stream', 'anthropic-messages', 'sse'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', 'application/json', 'gemini', 'json'],
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'text/event-stream', 'gemini', 'sse'],
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'application/json', 'gemini', 'json'],
    ['/v1/threads/t1/messages', 'application/json', 'unknown', 'json'],
    ['/v1/models', 'application/json', 'unknown', 'json'],
  ])('%s (%s) → %s/%s', (path, contentType, api, framing) => {
    expect(detectUsageFormat(path, contentType)).toEqual({ api, framing });
  });
});
