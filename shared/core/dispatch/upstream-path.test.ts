import { describe, expect, it } from 'vitest';
import { backendSchema } from '../../config/schema.js';
import { parseRequestTarget } from '../routing/request-target.js';
import { upstreamPath } from './upstream-path.js';

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

  it("writes the backend's name for the model into the body (the dispatcher skips the rewrite when it is unchanged)", () => {
    const target = parseRequestTarget('/v1/chat/completions', '');
    expect(upstreamPath(target, openai, '', 'gpt-4o', undefined).bodyModel).toBe('gpt-4o-2024-08-06');
    expect(upstreamPath(target, openai, '', 'other', undefined).bodyModel).toBe('other');
  });

  it('forwards path-prefix routes on the stripped path with the query', () => {
    const target = parseRequestTarget('/echo/a', '?x=1');
    expect(upstreamPath(target, http, '/svc', undefined, '/a').path).toBe('/svc/a?x=1');
  });
});
