import { describe, expect, it } from 'vitest';
import { backendSchema } from '../../config/schema.js';
import { parseRequestTarget } from '../routing/request-target.js';
import { joinBase, upstreamPath } from './upstream-path.js';

const openai = backendSchema.parse({
  id: 'o',
  url: 'http://o',
  kind: 'openai',
  models: { 'gpt-4o': 'gpt-4o-2024-08-06' },
});
const azure = backendSchema.parse({
  id: 'a',
  url: 'http://a',
  kind: 'azure-openai',
  apiVersion: '2025-01-01',
  models: { 'gpt-4o': 'prod-gpt4o' },
});
const http = backendSchema.parse({ id: 'h', url: 'http://h', kind: 'http' });

describe('upstreamPath', () => {
  it('translates an OpenAI call for an Azure backend into its deployment path', () => {
    const target = parseRequestTarget('/v1/chat/completions', '');
    expect(upstreamPath(target, azure, '', 'gpt-4o', undefined)).toEqual({
      path: '/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01',
      bodyModel: undefined,
    });
  });

  it("keeps the Azure caller's api-version", () => {
    const target = parseRequestTarget('/openai/deployments/gpt-4o/embeddings', '?api-version=2024-02-01');
    expect(upstreamPath(target, azure, '/base', 'gpt-4o', undefined).path).toBe(
      '/base/openai/deployments/prod-gpt4o/embeddings?api-version=2024-02-01',
    );
  });

  it('translates an Azure call for an OpenAI backend into /v1 with the model in the body', () => {
    const target = parseRequestTarget('/openai/deployments/gpt-4o/chat/completions', '?api-version=2024-10-21');
    expect(upstreamPath(target, openai, '', 'gpt-4o', undefined)).toEqual({
      path: '/v1/chat/completions',
      bodyModel: 'gpt-4o-2024-08-06',
    });
  });

  it("writes the backend's name for the model into the body (no rewrite when it is unchanged)", () => {
    const target = parseRequestTarget('/v1/chat/completions', '');
    expect(upstreamPath(target, openai, '', 'gpt-4o', undefined).bodyModel).toBe('gpt-4o-2024-08-06');
    expect(upstreamPath(target, openai, '', 'other', undefined).bodyModel).toBe('other');
  });

  it('forwards path-prefix routes on the stripped path with the query', () => {
    const target = parseRequestTarget('/echo/a', '?x=1');
    expect(upstreamPath(target, http, '/svc', undefined, '/a').path).toBe('/svc/a?x=1');
  });

  it('writes the API root once when the backend URL already ends in it', () => {
    const chat = parseRequestTarget('/v1/chat/completions', '');
    expect(upstreamPath(chat, openai, '/v1', 'gpt-4o', undefined).path).toBe('/v1/chat/completions');
    expect(upstreamPath(chat, openai, '', 'gpt-4o', undefined).path).toBe('/v1/chat/completions');
    // Azure OpenAI's v1 API is OpenAI-shaped under /openai/v1.
    expect(upstreamPath(chat, openai, '/openai/v1', 'gpt-4o', undefined).path).toBe('/openai/v1/chat/completions');
    expect(upstreamPath(chat, azure, '/openai', 'gpt-4o', undefined).path).toBe(
      '/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01',
    );
    const azureCall = parseRequestTarget('/openai/deployments/gpt-4o/embeddings', '?api-version=2024-10-21');
    expect(upstreamPath(azureCall, openai, '/proxy/v1', 'gpt-4o', undefined).path).toBe('/proxy/v1/embeddings');
  });

  it('writes the root once for Anthropic and Gemini backends too', () => {
    const anthropic = backendSchema.parse({ id: 'c', url: 'http://c/v1', kind: 'anthropic' });
    const gemini = backendSchema.parse({ id: 'g', url: 'http://g/v1beta', kind: 'gemini' });
    expect(upstreamPath(parseRequestTarget('/v1/messages', ''), anthropic, '/v1', 'claude', undefined).path).toBe(
      '/v1/messages',
    );
    const generate = parseRequestTarget('/v1beta/models/gemini-2.5-flash:generateContent', '?alt=sse');
    expect(upstreamPath(generate, gemini, '/v1beta', 'gemini-2.5-flash', undefined).path).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent?alt=sse',
    );
  });

  it('forwards plain HTTP and path-prefix calls after the URL exactly as they are', () => {
    expect(upstreamPath(parseRequestTarget('/v1/things', ''), http, '/v1', undefined, undefined).path).toBe(
      '/v1/v1/things',
    );
    expect(upstreamPath(parseRequestTarget('/svc/v1/x', ''), openai, '/v1', undefined, '/v1/x').path).toBe('/v1/v1/x');
  });
});

describe('joinBase', () => {
  it.each([
    ['', '/v1/chat/completions', '/v1/chat/completions'],
    ['/v1', '/v1/chat/completions', '/v1/chat/completions'],
    ['/openai/v1', '/v1/responses', '/openai/v1/responses'],
    ['/openai', '/openai/deployments/d/chat/completions', '/openai/deployments/d/chat/completions'],
    ['/v1beta', '/v1beta/models/m:generateContent', '/v1beta/models/m:generateContent'],
    ['/proxy', '/v1/embeddings', '/proxy/v1/embeddings'],
    ['/v1', '/v1beta/models/m:generateContent', '/v1/v1beta/models/m:generateContent'],
    ['/v2', '/v1/embeddings', '/v2/v1/embeddings'],
    ['/myv1', '/v1/embeddings', '/myv1/v1/embeddings'],
  ])('joinBase(%j, %j) → %j', (base, api, expected) => {
    expect(joinBase(base, api)).toBe(expected);
  });
});
