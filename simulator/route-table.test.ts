import { describe, expect, it } from 'vitest';
import { matchRoute } from './route-table.js';

describe('matchRoute', () => {
  it.each([
    [
      'POST',
      '/v1/chat/completions',
      { action: 'generate', api: 'chat', azure: false, pathModel: null, pathStream: null },
    ],
    [
      'POST',
      '/v1/chat/completions/',
      { action: 'generate', api: 'chat', azure: false, pathModel: null, pathStream: null },
    ],
    [
      'POST',
      '/v1/completions',
      { action: 'generate', api: 'completions', azure: false, pathModel: null, pathStream: null },
    ],
    [
      'POST',
      '/v1/embeddings',
      { action: 'generate', api: 'embeddings', azure: false, pathModel: null, pathStream: null },
    ],
    [
      'POST',
      '/v1/responses',
      { action: 'generate', api: 'responses', azure: false, pathModel: null, pathStream: null },
    ],
    ['GET', '/v1/responses/resp_123', { action: 'response-get', id: 'resp_123' }],
    ['DELETE', '/v1/responses/resp_123', { action: 'response-delete', id: 'resp_123' }],
    ['GET', '/v1/models', { action: 'models' }],
    ['POST', '/v1/messages', { action: 'generate', api: 'anthropic', azure: false, pathModel: null, pathStream: null }],
    [
      'POST',
      '/openai/deployments/gpt-4o/chat/completions',
      { action: 'generate', api: 'chat', azure: true, pathModel: 'gpt-4o', pathStream: null },
    ],
    [
      'POST',
      '/openai/deployments/my%20dep/embeddings',
      { action: 'generate', api: 'embeddings', azure: true, pathModel: 'my dep', pathStream: null },
    ],
    [
      'POST',
      '/openai/deployments/d/completions',
      { action: 'generate', api: 'completions', azure: true, pathModel: 'd', pathStream: null },
    ],
    [
      'POST',
      '/openai/v1/chat/completions',
      { action: 'generate', api: 'chat', azure: true, pathModel: null, pathStream: null },
    ],
    [
      'POST',
      '/openai/responses',
      { action: 'generate', api: 'responses', azure: true, pathModel: null, pathStream: null },
    ],
    ['GET', '/openai/responses/resp_1', { action: 'response-get', id: 'resp_1' }],
    [
      'POST',
      '/v1beta/models/gemini-2.5-flash:generateContent',
      { action: 'generate', api: 'gemini', azure: false, pathModel: 'gemini-2.5-flash', pathStream: false },
    ],
    [
      'POST',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      { action: 'generate', api: 'gemini', azure: false, pathModel: 'gemini-2.5-flash', pathStream: true },
    ],
    [
      'POST',
      '/v1/models/gemini-2.5-pro%23429:generateContent',
      { action: 'generate', api: 'gemini', azure: false, pathModel: 'gemini-2.5-pro#429', pathStream: false },
    ],
  ])('%s %s', (method, path, expected) => {
    expect(matchRoute(method, path)).toEqual(expected);
  });

  it.each([
    ['GET', '/v1/chat/completions'],
    ['POST', '/v1/models'],
    ['POST', '/v1/unknown'],
    ['POST', '/openai/deployments//chat/completions'],
    ['POST', '/openai/deployments/d/responses'],
    ['GET', '/openai/deployments/d/chat/completions'],
    ['POST', '/v1beta/models/gemini:countTokens'],
    ['GET', '/v1beta/models/gemini:generateContent'],
    ['GET', '/v1/responses/a/b'],
    ['GET', '/'],
  ])('does not serve %s %s', (method, path) => {
    expect(matchRoute(method, path)).toBeNull();
  });
});
