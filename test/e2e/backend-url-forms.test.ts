import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * A backend URL may be given with or without the API root most tools put in a base URL
 * (`http://host/v1`): both forms reach the same backend paths, through the real `openai` client.
 */
describe('backend URLs with and without the API root', () => {
  let h: Harness;
  const messages = [{ role: 'user' as const, content: 'Which path did I take?' }];

  beforeAll(async () => {
    h = await startHarness({
      simulators: { bare: {}, v1: {}, azure: {} },
      config: (urls) => ({
        backends: [
          { id: 'bare', url: urls.bare!, kind: 'openai' },
          { id: 'v1', url: `${urls.v1!}/v1/`, kind: 'openai' },
          { id: 'azure', url: `${urls.azure!}/openai`, kind: 'azure-openai' },
        ],
        pools: [
          { id: 'bare', backends: ['bare'] },
          { id: 'v1', backends: ['v1'] },
          { id: 'azure', backends: ['azure'] },
        ],
        routes: [
          { id: 'bare', match: { models: ['bare-model'] }, pool: 'bare' },
          { id: 'v1', match: { models: ['v1-model'] }, pool: 'v1' },
          { id: 'azure', match: { models: ['azure-model'] }, pool: 'azure' },
        ],
        governance: { identity: { anonymous: { allowed: true } } },
      }),
    });
  });
  afterAll(async () => h.close());

  it('sends an OpenAI call to /v1/chat/completions whichever form the URL has', async () => {
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const model of ['bare-model', 'v1-model']) {
      const answer = await client.chat.completions.create({ model, messages });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
    }
    expect(h.sims.bare!.attempts().map((a) => [a.path, a.status])).toEqual([['/v1/chat/completions', 200]]);
    expect(h.sims.v1!.attempts().map((a) => [a.path, a.status])).toEqual([['/v1/chat/completions', 200]]);
  });

  it('translates an Azure-shaped call for a /v1 backend without doubling the root', async () => {
    const azure = new AzureOpenAI({
      endpoint: h.url,
      apiKey: 'unused',
      apiVersion: '2024-10-21',
      deployment: 'v1-model',
      maxRetries: 0,
    });
    await azure.embeddings.create({ model: 'v1-model', input: 'hello' });
    expect(h.sims.v1!.attempts().at(-1)).toMatchObject({ path: '/v1/embeddings', status: 200 });
  });

  it('accepts an Azure OpenAI endpoint given with its /openai path', async () => {
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'azure-model', messages });
    expect(h.sims.azure!.attempts().at(-1)).toMatchObject({
      path: '/openai/deployments/azure-model/chat/completions',
      query: 'api-version=2024-10-21',
      status: 200,
    });
  });
});
