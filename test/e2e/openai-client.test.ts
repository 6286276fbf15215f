import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import { countPromptTokens } from '../../simulator/token-count.js';
import { defaultConfig, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * End to end: the real `openai` npm client (OpenAI and Azure OpenAI flavours) against the standalone
 * host, with the simulator behind it. Asserts what the client sees and what the usage ledger holds.
 */
describe('the openai client through the standalone host', () => {
  let h: Harness;
  let client: OpenAI;
  const messages = [{ role: 'user' as const, content: 'Tell me something about gateways, please.' }];
  const expectedPrompt = countPromptTokens('chat', { messages });

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) => defaultConfig(urls, { routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }] }),
    });
    client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused-anonymous', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  async function recordOf(requestId: string | null): Promise<UsageRecord> {
    await h.runtime.ledger.flush();
    const records: UsageRecord[] = [];
    for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })) records.push(r);
    const record = records.find((r) => r.requestId === requestId);
    if (record === undefined) throw new Error(`no usage record for ${requestId}`);
    return record;
  }

  it('answers a chat completion, and the ledger holds exactly the usage the client saw', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(data.choices[0]?.message.content).toContain('Hello from the simulator');
    expect(data.usage).toMatchObject({
      prompt_tokens: expectedPrompt,
      completion_tokens: 16,
      total_tokens: expectedPrompt + 16,
    });
    const record = await recordOf(response.headers.get('x-gateway-request-id'));
    expect(record.tokens).toMatchObject({
      promptTokens: expectedPrompt,
      completionTokens: 16,
      totalTokens: expectedPrompt + 16,
      source: 'reported',
    });
    expect(record.outcome).toBe('complete');
    expect(record.modelServed).toBe('gpt-4o-mini');
  });

  it('streams a chat completion without usage when the caller did not ask, yet meters it exactly', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true })
      .withResponse();
    let text = '';
    let sawUsage = false;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(chunks).toBeGreaterThanOrEqual(16);
    expect(text.split(' ').filter(Boolean)).toHaveLength(16);
    expect(sawUsage).toBe(false);
    const record = await recordOf(response.headers.get('x-gateway-request-id'));
    expect(record.includeUsageInjected).toBe(true);
    expect(record.tokens).toMatchObject({ promptTokens: expectedPrompt, completionTokens: 16, source: 'reported' });
  });

  it('streams with usage when the caller asked, and the ledger equals what the client saw', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: expectedPrompt, completion_tokens: 16 });
    const record = await recordOf(response.headers.get('x-gateway-request-id'));
    expect(record.includeUsageInjected).toBe(false);
    expect(record.tokens.totalTokens).toBe(usage!.total_tokens);
  });

  it('meters 100% of a batch of complete calls exactly, streaming and not', async () => {
    const ids: { id: string | null; prompt: number; completion: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const content = `question number ${i} ${'x'.repeat(i * 7)}`;
      const prompt = countPromptTokens('chat', { messages: [{ role: 'user', content }] });
      const tokens = 5 + i;
      const opts = { headers: { 'x-sim-fault': `tokens=${tokens}` } };
      if (i % 2 === 0) {
        const { response } = await client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, opts)
          .withResponse();
        ids.push({ id: response.headers.get('x-gateway-request-id'), prompt, completion: tokens });
      } else {
        const { data: stream, response } = await client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true }, opts)
          .withResponse();
        for await (const _ of stream) void _;
        ids.push({ id: response.headers.get('x-gateway-request-id'), prompt, completion: tokens });
      }
    }
    for (const { id, prompt, completion } of ids) {
      const record = await recordOf(id);
      expect(record.tokens).toMatchObject({
        promptTokens: prompt,
        completionTokens: completion,
        totalTokens: prompt + completion,
        source: 'reported',
      });
    }
  });

  it('bills a caller that disconnects mid-stream for the tokens the backend produced until then', async () => {
    const controller = new AbortController();
    const ended = h.nextCall();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true },
      { signal: controller.signal, headers: { 'x-sim-fault': 'tokens=400;tps=200' } },
    );
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received++;
        if (received === 5) controller.abort();
      }
    } catch {
      // the client's own abort
    }
    const summary = await ended;
    expect(summary.outcome).toBe('caller_aborted');
    const record = await recordOf(summary.requestId);
    expect(record.outcome).toBe('caller_aborted');
    // No usage chunk arrived, so the completion is estimated from the text that streamed: at least what
    // the client got, far less than the 400 the full answer would have cost.
    expect(record.tokens.completionTokens).toBeGreaterThanOrEqual(5);
    expect(record.tokens.completionTokens).toBeLessThan(400);
    expect(record.tokens.completionSource).toBe('estimated');
  });

  it('creates embeddings', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'] });
    expect(result.data).toHaveLength(2);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('serves the Azure OpenAI client against a deployment route', async () => {
    const azure = new AzureOpenAI({
      endpoint: h.url,
      apiKey: 'unused',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
    });
    const result = await azure.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(result.choices[0]?.message.content).toContain('Hello from the simulator');
    expect(result.usage?.completion_tokens).toBe(16);
    const stream = await azure.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.split(' ').filter(Boolean)).toHaveLength(16);
  });

  it('surfaces a gateway error as an SDK APIError with our code', async () => {
    const bad = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const error = await bad.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [] }, { headers: { 'x-gateway-ttl': 'not-a-ttl' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('GW_ERR_REQUEST_INVALID_TTL');
  });
});
