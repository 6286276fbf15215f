/* eslint-disable @typescript-eslint/no-explicit-any -- the assertions walk parsed JSON payloads */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { completionText, completionTokenText, countPromptTokens } from './token-count.js';
import { postJson, readToEnd, sseEvents, sseJson } from './test-support/sse.js';

const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the simulator, please.' },
];
const PROMPT = countPromptTokens('chat', { messages: MESSAGES });

let sim: RunningSimulator;
let clockMs = 1_750_000_000_000;

beforeAll(async () => {
  sim = await startSimulator({ name: 'endpoints', now: () => clockMs });
});
afterAll(async () => {
  await sim.close();
});

describe('OpenAI chat completions', () => {
  it('answers a non-streaming chat completion with OpenAI usage', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sim-instance')).toBe('endpoints');
    const body = (await res.json()) as Record<string, any>;
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('gpt-4o');
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.choices[0].message).toMatchObject({ role: 'assistant', content: completionText(16) });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toEqual({
      prompt_tokens: PROMPT,
      completion_tokens: 16,
      total_tokens: PROMPT + 16,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    expect(PROMPT).toBe(13);
  });

  it('streams one chunk per token without usage when include_usage is not asked for', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, { model: 'gpt-4o', messages: MESSAGES, stream: true });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = sseEvents(text);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = sseJson(text) as Record<string, any>[];
    expect(chunks).toHaveLength(1 + 16 + 1);
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect('usage' in chunk).toBe(false);
    }
    expect(chunks[0]?.choices[0].delta.role).toBe('assistant');
    expect(chunks.slice(1, 17).map((c) => c.choices[0].delta.content)).toEqual(
      Array.from({ length: 16 }, (_, i) => completionTokenText(i)),
    );
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
  });

  it('ends with a usage-only chunk before [DONE] when include_usage is true, usage null elsewhere', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, {
      model: 'gpt-4o#tokens=3;cached=5;reasoning=7',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = sseJson(await res.text()) as Record<string, any>[];
    expect(chunks).toHaveLength(1 + 3 + 1 + 1);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    const last = chunks.at(-1) as Record<string, any>;
    expect(last.choices).toEqual([]);
    expect(last.model).toBe('gpt-4o');
    expect(last.usage).toMatchObject({
      prompt_tokens: PROMPT,
      completion_tokens: 10,
      total_tokens: PROMPT + 10,
      prompt_tokens_details: { cached_tokens: 5 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
  });

  it('caps the completion at max_completion_tokens with finish_reason length', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, {
      model: 'gpt-4o',
      messages: MESSAGES,
      max_completion_tokens: 4,
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.usage.completion_tokens).toBe(4);
    expect(body.choices[0].message.content).toBe(completionText(4));
  });

  it('reports the scripted served model', async () => {
    const res = await postJson(
      `${sim.url}/v1/chat/completions`,
      { model: 'gpt-4o', messages: MESSAGES },
      { 'x-sim-fault': 'served-model=gpt-4o-2024-11-20' },
    );
    expect(((await res.json()) as Record<string, any>).model).toBe('gpt-4o-2024-11-20');
  });
});

describe('Azure OpenAI', () => {
  const azure = (d: string, op: string): string => `${sim.url}/openai/deployments/${d}/${op}?api-version=2024-10-21`;

  it('reports the deployment as the model, with prompt filter results', async () => {
    const res = await postJson(azure('my-gpt4o', 'chat/completions'), { messages: MESSAGES });
    const body = (await res.json()) as Record<string, any>;
    expect(body.model).toBe('my-gpt4o');
    expect(body.prompt_filter_results[0].prompt_index).toBe(0);
    expect(body.choices[0].content_filter_results.hate.filtered).toBe(false);
    expect(body.usage.total_tokens).toBe(PROMPT + 16);
  });

  it('prefers the model in the body over the deployment', async () => {
    const res = await postJson(azure('dep', 'chat/completions'), { model: 'gpt-4.1', messages: MESSAGES });
    expect(((await res.json()) as Record<string, any>).model).toBe('gpt-4.1');
  });

  it('streams usage: null on every chunk and opens with a prompt_filter_results chunk', async () => {
    const res = await postJson(azure('dep', 'chat/completions'), { messages: MESSAGES, stream: true });
    const text = await res.text();
    expect(sseEvents(text).at(-1)?.data).toBe('[DONE]');
    const chunks = sseJson(text) as Record<string, any>[];
    expect(chunks[0]).toMatchObject({ choices: [], prompt_filter_results: [{ prompt_index: 0 }], usage: null });
    expect(chunks).toHaveLength(1 + 1 + 16 + 1);
    for (const chunk of chunks) expect(chunk.usage).toBeNull();
  });

  it('carries the numbers on the final chunk when usage is requested', async () => {
    const res = await postJson(azure('dep', 'chat/completions'), {
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = sseJson(await res.text()) as Record<string, any>[];
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: PROMPT,
      completion_tokens: 16,
      total_tokens: PROMPT + 16,
    });
  });

  it('serves embeddings and completions under the deployment', async () => {
    const emb = (await (await postJson(azure('emb', 'embeddings'), { input: ['abcd', 'efgh'] })).json()) as Record<
      string,
      any
    >;
    expect(emb.model).toBe('emb');
    expect(emb.data).toHaveLength(2);
    const cmpl = (await (await postJson(azure('inst', 'completions'), { prompt: 'abcdefgh' })).json()) as Record<
      string,
      any
    >;
    expect(cmpl).toMatchObject({
      object: 'text_completion',
      model: 'inst',
      usage: { prompt_tokens: 2, completion_tokens: 16 },
    });
  });
});

describe('OpenAI completions and embeddings', () => {
  it('streams legacy completions with include_usage', async () => {
    const res = await postJson(`${sim.url}/v1/completions`, {
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'abcdefghijkl',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 5,
    });
    const chunks = sseJson(await res.text()) as Record<string, any>[];
    expect(chunks).toHaveLength(5 + 1 + 1);
    expect(
      chunks
        .slice(0, 5)
        .map((c) => c.choices[0].text)
        .join(''),
    ).toBe(completionText(5));
    expect(chunks[5]?.choices[0].finish_reason).toBe('length');
    expect(chunks[6]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
    });
  });

  it('returns one vector per input, of the default, requested or scripted dimension', async () => {
    const body = (await (
      await postJson(`${sim.url}/v1/embeddings`, {
        model: 'text-embedding-3-small',
        input: ['hello', 'world', 'again'],
      })
    ).json()) as Record<string, any>;
    expect(body.object).toBe('list');
    expect(body.data.map((d: any) => d.index)).toEqual([0, 1, 2]);
    expect(body.data[0].embedding).toHaveLength(8);
    expect(body.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const norm = Math.hypot(...(body.data[0].embedding as number[]));
    expect(norm).toBeCloseTo(1, 5);
    const asked = (await (
      await postJson(`${sim.url}/v1/embeddings`, { model: 'e', input: 'x', dimensions: 5 })
    ).json()) as Record<string, any>;
    expect(asked.data[0].embedding).toHaveLength(5);
    const scripted = (await (
      await postJson(`${sim.url}/v1/embeddings`, { model: 'e#dims=3', input: 'x' })
    ).json()) as Record<string, any>;
    expect(scripted.data[0].embedding).toHaveLength(3);
    expect(scripted.model).toBe('e');
  });

  it('encodes base64 embeddings as little-endian float32', async () => {
    const plain = (await (
      await postJson(`${sim.url}/v1/embeddings`, { model: 'e', input: 'same text' })
    ).json()) as Record<string, any>;
    const b64 = (await (
      await postJson(`${sim.url}/v1/embeddings`, { model: 'e', input: 'same text', encoding_format: 'base64' })
    ).json()) as Record<string, any>;
    const bytes = Buffer.from(b64.data[0].embedding as string, 'base64');
    const floats = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(floats).toEqual(plain.data[0].embedding);
  });

  it('lists models', async () => {
    const body = (await (await fetch(`${sim.url}/v1/models`)).json()) as Record<string, any>;
    expect(body.object).toBe('list');
    expect(body.data.map((m: any) => m.id)).toContain('gpt-4o');
  });
});

describe('OpenAI Responses API', () => {
  it('answers, stores, gets and deletes a response', async () => {
    const res = await postJson(`${sim.url}/v1/responses`, {
      model: 'gpt-4.1',
      input: 'abcdefgh',
      instructions: 'abcd',
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1' });
    expect(body.output[0].content[0]).toMatchObject({ type: 'output_text', text: completionText(16) });
    expect(body.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 16,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 19,
    });
    const got = await fetch(`${sim.url}/v1/responses/${body.id}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as Record<string, any>).id).toBe(body.id);
    const del = await fetch(`${sim.url}/v1/responses/${body.id}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: body.id, object: 'response', deleted: true });
    expect((await fetch(`${sim.url}/v1/responses/${body.id}`)).status).toBe(404);
    expect((await fetch(`${sim.url}/v1/responses/${body.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 404 for a response another instance created', async () => {
    const other = await startSimulator({ name: 'other' });
    try {
      const body = (await (await postJson(`${other.url}/v1/responses`, { model: 'm', input: 'x' })).json()) as Record<
        string,
        any
      >;
      expect((await fetch(`${other.url}/v1/responses/${body.id}`)).status).toBe(200);
      const res = await fetch(`${sim.url}/v1/responses/${body.id}`);
      expect(res.status).toBe(404);
      const follow = await postJson(`${sim.url}/v1/responses`, {
        model: 'm',
        input: 'y',
        previous_response_id: body.id,
      });
      expect(follow.status).toBe(400);
      expect(((await follow.json()) as Record<string, any>).error).toMatchObject({
        code: 'previous_response_not_found',
        param: 'previous_response_id',
      });
      const ok = await postJson(`${other.url}/v1/responses`, { model: 'm', input: 'y', previous_response_id: body.id });
      expect(((await ok.json()) as Record<string, any>).previous_response_id).toBe(body.id);
    } finally {
      await other.close();
    }
  });

  it('does not store a response with store: false', async () => {
    const body = (await (
      await postJson(`${sim.url}/v1/responses`, { model: 'm', input: 'x', store: false })
    ).json()) as Record<string, any>;
    expect((await fetch(`${sim.url}/v1/responses/${body.id}`)).status).toBe(404);
  });

  it('streams response events with sequence numbers and usage on response.completed', async () => {
    const res = await postJson(`${sim.url}/v1/responses`, {
      model: 'gpt-4.1#tokens=4;reasoning=2;cached=1',
      input: 'abcdefgh',
      stream: true,
    });
    const events = sseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const payloads = events.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(payloads.map((p) => p.sequence_number)).toEqual(payloads.map((_, i) => i));
    expect(payloads.map((p) => p.type)).toEqual(events.map((e) => e.event));
    expect(
      payloads
        .slice(4, 8)
        .map((p) => p.delta)
        .join(''),
    ).toBe(completionText(4));
    expect(payloads[0]?.response.status).toBe('in_progress');
    expect(payloads.at(-1)?.response.usage).toEqual({
      input_tokens: 2,
      input_tokens_details: { cached_tokens: 1 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 8,
    });
  });

  it('runs background responses: queued, in_progress, then completed after the scripted delay', async () => {
    const res = await postJson(`${sim.url}/v1/responses`, {
      model: 'gpt-4.1#latency-ms=5000',
      input: 'x',
      background: true,
    });
    const created = (await res.json()) as Record<string, any>;
    expect(created).toMatchObject({ status: 'queued', background: true, usage: null, output: [] });
    const get = async (): Promise<Record<string, any>> =>
      (await (await fetch(`${sim.url}/v1/responses/${created.id}`)).json()) as Record<string, any>;
    expect((await get()).status).toBe('in_progress');
    clockMs += 4999;
    expect((await get()).status).toBe('in_progress');
    clockMs += 1;
    const done = await get();
    expect(done.status).toBe('completed');
    expect(done.usage.output_tokens).toBe(16);
  });
});

describe('Anthropic messages', () => {
  const request = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    system: 'abcd',
    messages: [{ role: 'user', content: 'abcdefghijklmnop' }],
  };

  it('answers a message with usage', async () => {
    const res = await postJson(`${sim.url}/v1/messages`, {
      ...request,
      model: 'claude-sonnet-4-5#cached=2;cache-write=1',
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
    });
    expect(body.id).toMatch(/^msg_/);
    expect(body.content).toEqual([{ type: 'text', text: completionText(16) }]);
    expect(body.usage).toEqual({
      input_tokens: 2,
      cache_creation_input_tokens: 1,
      cache_read_input_tokens: 2,
      output_tokens: 16,
      service_tier: 'standard',
    });
  });

  it('streams the Anthropic event sequence with usage in message_start and message_delta', async () => {
    const res = await postJson(`${sim.url}/v1/messages`, {
      ...request,
      model: 'claude-sonnet-4-5#tokens=3;cached=1',
      stream: true,
    });
    const events = sseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(data.map((d) => d.type)).toEqual(events.map((e) => e.event));
    expect(data[0]?.message.usage).toMatchObject({
      input_tokens: 4,
      cache_read_input_tokens: 1,
      cache_creation_input_tokens: 0,
      output_tokens: 1,
    });
    expect(
      data
        .slice(3, 6)
        .map((d) => d.delta.text)
        .join(''),
    ).toBe(completionText(3));
    expect(data[7]).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } });
  });
});

describe('Gemini', () => {
  const gemini = (model: string, verb: string, query = ''): string =>
    `${sim.url}/v1beta/models/${model}:${verb}${query}`;
  const request = { contents: [{ role: 'user', parts: [{ text: 'abcdefghijkl' }] }] };

  it('answers generateContent with usageMetadata', async () => {
    const res = await postJson(gemini('gemini-2.5-pro', 'generateContent'), request, {
      'x-sim-fault': 'reasoning=5;cached=2',
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body.modelVersion).toBe('gemini-2.5-pro');
    expect(body.candidates[0]).toMatchObject({
      content: { role: 'model', parts: [{ text: completionText(16) }] },
      finishReason: 'STOP',
    });
    expect(body.usageMetadata).toMatchObject({
      promptTokenCount: 3,
      candidatesTokenCount: 16,
      thoughtsTokenCount: 5,
      cachedContentTokenCount: 2,
      totalTokenCount: 24,
    });
  });

  it('omits the optional counts when they are zero', async () => {
    const body = (await (await postJson(gemini('gemini-2.5-flash', 'generateContent'), request)).json()) as Record<
      string,
      any
    >;
    expect(body.usageMetadata).not.toHaveProperty('thoughtsTokenCount');
    expect(body.usageMetadata).not.toHaveProperty('cachedContentTokenCount');
  });

  it('streams SSE with alt=sse, CRLF-framed, final chunk carrying the totals', async () => {
    const res = await postJson(gemini('gemini-2.5-flash', 'streamGenerateContent', '?alt=sse'), request, {
      'x-sim-fault': 'tokens=3',
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('\r\n\r\n');
    const chunks = sseJson(text) as Record<string, any>[];
    expect(chunks).toHaveLength(4);
    expect(
      chunks
        .slice(0, 3)
        .map((c) => c.candidates[0].content.parts[0].text)
        .join(''),
    ).toBe(completionText(3));
    expect(chunks.at(-1)).toMatchObject({
      candidates: [{ finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 3, totalTokenCount: 6 },
    });
  });

  it('streams a JSON array without alt=sse', async () => {
    const res = await postJson(gemini('gemini-2.5-flash', 'streamGenerateContent'), request, {
      'x-sim-fault': 'tokens=2',
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const array = JSON.parse(await res.text()) as Record<string, any>[];
    expect(array).toHaveLength(3);
    expect(array[2]?.usageMetadata.totalTokenCount).toBe(5);
  });

  it('caps the answer at maxOutputTokens', async () => {
    const body = (await (
      await postJson(gemini('g', 'generateContent'), { ...request, generationConfig: { maxOutputTokens: 2 } })
    ).json()) as Record<string, any>;
    expect(body.candidates[0].finishReason).toBe('MAX_TOKENS');
    expect(body.usageMetadata.candidatesTokenCount).toBe(2);
  });
});

describe('requests it does not serve', () => {
  it('answers 404 for unknown paths and 400 for bad JSON', async () => {
    expect((await fetch(`${sim.url}/nope`)).status).toBe(404);
    const bad = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Record<string, any>).error.type).toBe('invalid_request_error');
  });

  it('ends a stream before reading the whole answer without disturbing later requests', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, {
      model: 'gpt-4o#tokens=2000',
      messages: MESSAGES,
      stream: true,
    });
    const { text } = await readToEnd(res);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect((await postJson(`${sim.url}/v1/chat/completions`, { model: 'gpt-4o', messages: MESSAGES })).status).toBe(
      200,
    );
  });
});
