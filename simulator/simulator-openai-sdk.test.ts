import OpenAI, { AzureOpenAI, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { completionText, countPromptTokens } from './token-count.js';

const MESSAGES = [{ role: 'user' as const, content: 'How many tokens is this?' }];
const PROMPT = countPromptTokens('chat', { messages: MESSAGES });

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ name: 'sdk', apiKey: 'sk-test' });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

describe('the openai npm client against the simulator', () => {
  it('creates a chat completion', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    expect(completion.choices[0]?.message.content).toBe(completionText(16));
    expect(completion.usage).toMatchObject({ prompt_tokens: PROMPT, completion_tokens: 16, total_tokens: PROMPT + 16 });
  });

  it('streams a chat completion and reads the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(completionText(16));
    expect(usage?.total_tokens).toBe(PROMPT + 16);
  });

  it('decodes the default base64 embeddings', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(8);
    expect(result.data[0]?.embedding.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
  });

  it('creates and retrieves a response', async () => {
    const created = await client.responses.create({ model: 'gpt-4.1', input: 'Hello' });
    expect(created.output_text).toBe(completionText(16));
    const again = await client.responses.retrieve(created.id);
    expect(again.usage?.output_tokens).toBe(16);
  });

  it('surfaces a scripted 429 as a RateLimitError', async () => {
    const call = client.chat.completions.create({ model: 'gpt-4o-mini#429;retry-after-ms=20', messages: MESSAGES });
    await expect(call).rejects.toBeInstanceOf(RateLimitError);
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini#429', messages: MESSAGES }),
    ).rejects.toMatchObject({ status: 429 });
  });

  it('works with the Azure client and a deployment', async () => {
    const azure = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: 'sk-test',
      apiVersion: '2024-10-21',
      deployment: 'prod-gpt4o',
      maxRetries: 0,
    });
    const completion = await azure.chat.completions.create({ model: '', messages: MESSAGES });
    expect(completion.model).toBe('prod-gpt4o');
    expect(sim.attempts().at(-1)).toMatchObject({
      path: '/openai/deployments/prod-gpt4o/chat/completions',
      status: 200,
    });
  });
});
