import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import { createRouter } from './router.js';
import { parseRequestTarget } from './request-target.js';

function config() {
  const result = validateConfig({
    backends: [{ id: 'b', url: 'http://127.0.0.1:1' }],
    pools: [{ id: 'p', backends: ['b'] }],
    routes: [
      { id: 'gpt4o', match: { models: ['gpt-4o'] }, pool: 'p' },
      { id: 'gpt4o-family', match: { models: ['gpt-4o*'] }, pool: 'p' },
      { id: 'any', match: { models: ['*'] }, pool: 'p' },
      { id: 'echo', match: { pathPrefix: '/echo' }, pool: 'p' },
      { id: 'echo-keep', match: { pathPrefix: '/keep/' }, pool: 'p', stripPrefix: false },
    ],
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

describe('createRouter', () => {
  const router = createRouter(config());

  it.each([
    ['gpt-4o', 'gpt4o'],
    ['GPT-4o', 'gpt4o'],
    ['gpt-4o-mini', 'gpt4o-family'],
    ['claude-3', 'any'],
  ])('routes model %s to route %s (exact before the longest wildcard)', (model, id) => {
    expect(router.byModel(model)?.route.id).toBe(id);
  });

  it.each([
    ['/echo', 'echo', '/'],
    ['/echo/a/b', 'echo', '/a/b'],
    ['/keep/x', 'echo-keep', '/keep/x'],
  ])('routes path %s to %s forwarding %s', (path, id, forward) => {
    const match = router.byPath(path);
    expect(match?.route.id).toBe(id);
    expect(match?.forwardPath).toBe(forward);
  });

  it('matches path prefixes on segment boundaries only', () => {
    expect(router.byPath('/echoes')).toBeUndefined();
  });

  it('lists exact model names for /v1/models', () => {
    expect(router.models()).toEqual(['gpt-4o']);
  });
});

describe('parseRequestTarget', () => {
  it.each([
    ['/v1/chat/completions', '', 'openai', 'chat/completions', undefined, true],
    ['/v1/embeddings', '', 'openai', 'embeddings', undefined, true],
    ['/v1/responses/resp_1', '', 'openai', 'responses/resp_1', undefined, false],
    [
      '/openai/deployments/my-gpt/chat/completions',
      '?api-version=2024-10-21',
      'azure-openai',
      'chat/completions',
      'my-gpt',
      false,
    ],
    ['/openai/v1/chat/completions', '', 'openai', 'chat/completions', undefined, true],
    ['/v1/messages', '', 'anthropic', 'messages', undefined, true],
    [
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      '?alt=sse',
      'gemini',
      'streamGenerateContent',
      'gemini-2.5-flash',
      false,
    ],
    ['/echo/x', '', 'http', '/echo/x', undefined, false],
  ] as const)('%s%s is %s %s', (path, search, shape, operation, pathModel, modelInBody) => {
    expect(parseRequestTarget(path, search)).toMatchObject({ shape, operation, pathModel, modelInBody, search });
  });
});
