/* eslint-disable @typescript-eslint/no-explicit-any -- the assertions walk parsed JSON payloads */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { completionTokenText } from './token-count.js';
import { postJson, readToEnd, readUntil, sseEvents, sseJson } from './test-support/sse.js';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] };
const STREAM = { ...CHAT, stream: true };

let sim: RunningSimulator;
let clockMs = 1_750_000_000_000;

beforeAll(async () => {
  sim = await startSimulator({ name: 'faults', now: () => clockMs });
});
afterEach(() => {
  sim.configure({});
  sim.reset();
});
afterAll(async () => {
  await sim.close();
});

const chat = (headers: Record<string, string> = {}, body: unknown = CHAT): Promise<Response> =>
  postJson(`${sim.url}/v1/chat/completions`, body, headers);

describe('throttling', () => {
  it.each([
    ['429', {}],
    ['429;retry-after=3', { 'retry-after': '3' }],
    ['429;retry-after-ms=200', { 'retry-after-ms': '200' }],
    ['429;x-ms-retry-after-ms=1500', { 'x-ms-retry-after-ms': '1500' }],
    [
      '429;retry-after=1;retry-after-ms=1000;x-ms-retry-after-ms=1000',
      { 'retry-after': '1', 'retry-after-ms': '1000', 'x-ms-retry-after-ms': '1000' },
    ],
  ])('answers %s with the scripted retry headers', async (spec, headers) => {
    const res = await chat({ 'x-sim-fault': spec });
    expect(res.status).toBe(429);
    for (const name of ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms']) {
      expect(res.headers.get(name)).toBe((headers as Record<string, string>)[name] ?? null);
    }
    expect(((await res.json()) as Record<string, any>).error).toMatchObject({
      type: 'requests',
      code: 'rate_limit_exceeded',
    });
  });

  it('sends retry-after as an HTTP date from the simulator clock', async () => {
    const res = await chat({ 'x-sim-fault': '429;retry-after-date=30' });
    expect(res.headers.get('retry-after')).toBe(new Date(clockMs + 30_000).toUTCString());
  });

  it('sends the APIM requeue header, 429 by default', async () => {
    const res = await chat({ 'x-sim-fault': 'requeue;retry-after-ms=10000' });
    expect(res.status).toBe(429);
    expect(res.headers.get('s7prequeue')).toBe('true');
    expect(res.headers.get('retry-after-ms')).toBe('10000');
  });

  it('reads the fault from the model suffix and from the query', async () => {
    const bySuffix = await chat({}, { ...CHAT, model: 'gpt-4o-mini#fault=429;retry-after-ms=200' });
    expect(bySuffix.status).toBe(429);
    expect(bySuffix.headers.get('retry-after-ms')).toBe('200');
    const byQuery = await postJson(`${sim.url}/v1/chat/completions?sim-fault=503`, CHAT);
    expect(byQuery.status).toBe(503);
    expect(sim.attempts().map((a) => [a.model, a.status])).toEqual([
      ['gpt-4o-mini', 429],
      ['gpt-4o', 503],
    ]);
  });

  it('lets the header override the model suffix field by field', async () => {
    const res = await chat({ 'x-sim-fault': 'status=503' }, { ...CHAT, model: 'gpt-4o#429;retry-after=2' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
  });
});

describe('server errors', () => {
  it('fails the first N requests of a spec, then succeeds', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat({ 'x-sim-fault': '500;times=2' })).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
  });

  it('fails persistently with an instance rule', async () => {
    sim.configure({ faults: ['502'] });
    expect([(await chat()).status, (await chat()).status]).toEqual([502, 502]);
  });

  it('fails the next N requests after a runtime configure', async () => {
    expect((await chat()).status).toBe(200);
    sim.configure({ faults: [{ status: 503, times: 2 }] });
    const statuses = [(await chat()).status, (await chat()).status, (await chat()).status];
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('fails during an outage window on the injected clock, then recovers, and flaps', async () => {
    sim.configure({ faults: ['503;from-ms=1000;for-ms=2000;every-ms=10000'] });
    const at = async (offsetMs: number): Promise<number> => {
      const base = clockMs;
      clockMs = base + offsetMs;
      const status = (await chat()).status;
      clockMs = base;
      return status;
    };
    expect([await at(0), await at(1000), await at(2999), await at(3000), await at(11_500), await at(13_000)]).toEqual([
      200, 503, 503, 200, 503, 200,
    ]);
  });

  it('applies instance rules only to the matching path or model', async () => {
    sim.configure({ faults: ['429;path=/v1/embeddings', '500;model=gpt-4o-mini'] });
    expect((await postJson(`${sim.url}/v1/embeddings`, { model: 'e', input: 'x' })).status).toBe(429);
    expect((await chat({}, { ...CHAT, model: 'gpt-4o-mini' })).status).toBe(500);
    expect((await chat()).status).toBe(200);
  });
});

describe('caller errors', () => {
  it('answers context_length_exceeded in the OpenAI shape', async () => {
    const res = await chat({ 'x-sim-fault': 'context-length' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Record<string, any>).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
  });

  it('answers the Azure content filter error', async () => {
    const res = await postJson(`${sim.url}/openai/deployments/d/chat/completions?api-version=2024-10-21`, CHAT, {
      'x-sim-fault': 'content-filter',
    });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as Record<string, any>).error;
    expect(error).toMatchObject({
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation' },
    });
    expect(error.innererror.content_filter_result.violence).toEqual({ filtered: true, severity: 'high' });
  });

  it('answers in the Anthropic and Google error shapes on their endpoints', async () => {
    const anthropic = await postJson(
      `${sim.url}/v1/messages`,
      { model: 'c', max_tokens: 10, messages: [] },
      { 'x-sim-fault': '529' },
    );
    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const gemini = await postJson(
      `${sim.url}/v1beta/models/g:generateContent`,
      { contents: [] },
      { 'x-sim-fault': '429' },
    );
    expect(await gemini.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  });

  it('answers 400 sim_bad_fault_spec for a spec it cannot parse', async () => {
    const res = await chat({ 'x-sim-fault': 'explode' });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as Record<string, any>).error;
    expect(error.code).toBe('sim_bad_fault_spec');
    expect(error.message).toMatch(/unknown key "explode"/);
  });
});

describe('credentials', () => {
  it('answers 401 unless the configured key is presented in any supported form', async () => {
    sim.configure({ apiKey: 'secret' });
    expect((await chat()).status).toBe(401);
    expect((await chat({ 'api-key': 'wrong' })).status).toBe(401);
    expect((await chat({ 'api-key': 'secret' })).status).toBe(200);
    expect((await chat({ authorization: 'Bearer secret' })).status).toBe(200);
    expect(
      (await postJson(`${sim.url}/v1/messages`, { model: 'c', max_tokens: 5, messages: [] }, { 'x-api-key': 'secret' }))
        .status,
    ).toBe(200);
    expect((await postJson(`${sim.url}/v1beta/models/g:generateContent?key=secret`, { contents: [] })).status).toBe(
      200,
    );
    expect(
      (await postJson(`${sim.url}/v1beta/models/g:generateContent`, { contents: [] }, { 'x-goog-api-key': 'secret' }))
        .status,
    ).toBe(200);
    const denied = await postJson(`${sim.url}/v1/messages`, { model: 'c', max_tokens: 5, messages: [] });
    expect(await denied.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('answers a scripted 403', async () => {
    const res = await chat({ 'x-sim-fault': '403' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Record<string, any>).error.type).toBe('permission_error');
  });
});

describe('connection faults', () => {
  it('resets the connection before the headers', async () => {
    await expect(chat({ 'x-sim-fault': 'reset' })).rejects.toThrow();
    expect(sim.attempts()[0]).toMatchObject({ outcome: 'reset', status: null, fault: 'fault=reset' });
    expect((await chat()).status).toBe(200);
  });

  it('holds the request without answering until the client goes away', async () => {
    const abort = new AbortController();
    const pending = postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fault': 'hang' }, abort.signal);
    const [attempt] = await sim.waitForAttempts(1);
    expect(attempt).toMatchObject({ outcome: 'hang', status: null });
    abort.abort();
    await expect(pending).rejects.toThrow();
  });

  it('closes with held and stalled requests outstanding', async () => {
    const own = await startSimulator({ name: 'closing' });
    const held = postJson(`${own.url}/v1/chat/completions`, CHAT, { 'x-sim-fault': 'hang' });
    const stalled = await postJson(`${own.url}/v1/chat/completions`, STREAM, { 'x-sim-fault': 'stall;after=2' });
    const reader = (stalled.body as ReadableStream<Uint8Array>).getReader();
    const seen = await readUntil(reader, (t) => t.includes(JSON.stringify(completionTokenText(1))));
    expect(seen).not.toContain('[DONE]');
    await own.waitForAttempts(2);
    await own.close();
    await expect(held).rejects.toThrow();
    await expect(reader.read()).rejects.toThrow();
  });
});

describe('stream faults', () => {
  const tokensIn = (text: string): number =>
    sseJson(text).filter(
      (c: Record<string, any>) =>
        typeof c.choices?.[0]?.delta?.content === 'string' && c.choices[0].delta.content !== '',
    ).length;

  it('cuts the stream after N tokens, with no [DONE]', async () => {
    const res = await chat({ 'x-sim-fault': 'cut;after=3' }, STREAM);
    expect(res.status).toBe(200);
    const { text, error } = await readToEnd(res);
    expect(error).not.toBeNull();
    expect(text).not.toContain('[DONE]');
    expect(tokensIn(text)).toBe(3);
    expect(sim.attempts()[0]).toMatchObject({ status: 200, outcome: 'cut' });
  });

  it('cuts a non-streaming body half-way', async () => {
    const res = await chat({ 'x-sim-fault': 'cut' });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('stalls after N tokens with the socket open', async () => {
    const abort = new AbortController();
    const res = await postJson(
      `${sim.url}/v1/chat/completions`,
      STREAM,
      { 'x-sim-fault': 'stall;after=2' },
      abort.signal,
    );
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const text = await readUntil(reader, (t) => tokensIn(t) >= 2);
    expect(tokensIn(text)).toBe(2);
    expect(sim.attempts()[0]).toMatchObject({ status: 200, outcome: 'stall' });
    abort.abort();
    await expect(reader.read()).rejects.toThrow();
  });

  it('sends a malformed chunk mid-stream and carries on to [DONE]', async () => {
    const res = await chat({ 'x-sim-fault': 'malformed;after=2;tokens=4' }, STREAM);
    const events = sseEvents(await res.text());
    const datas = events.map((e) => e.data);
    expect(datas).toContain('{not json');
    expect(datas.indexOf('{not json')).toBe(1 + 2);
    expect(datas.at(-1)).toBe('[DONE]');
    expect(sim.attempts()[0]?.outcome).toBe('malformed');
  });

  it('ends cleanly without [DONE]', async () => {
    const res = await chat({ 'x-sim-fault': 'no-done' }, { ...STREAM, stream_options: { include_usage: true } });
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    expect(sseJson(text).at(-1)?.usage).toMatchObject({ completion_tokens: 16 });
  });

  it('drops the Anthropic message_stop on no-done', async () => {
    const res = await postJson(
      `${sim.url}/v1/messages`,
      { model: 'c', max_tokens: 100, messages: [], stream: true },
      { 'x-sim-fault': 'no-done' },
    );
    const events = sseEvents(await res.text()).map((e) => e.event);
    expect(events.at(-1)).toBe('message_delta');
  });
});

describe('timing', () => {
  it('waits latency-ms before the headers', async () => {
    const started = performance.now();
    const res = await chat({ 'x-sim-fault': 'latency-ms=60' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('sends the headers before the first-token wait', async () => {
    // The first token is a day away: the headers can only have arrived because they were sent first.
    const res = await chat({ 'x-sim-fault': 'first-token-ms=86400000' }, STREAM);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await res.body?.cancel();
  });

  it('waits first-token-ms before the first body byte', async () => {
    const started = performance.now();
    const res = await chat({ 'x-sim-fault': 'first-token-ms=60' }, STREAM);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // A lower bound: a loaded machine can only make it later.
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    await reader.cancel();
  });

  it('paces tokens at tps', async () => {
    const started = performance.now();
    const res = await chat({ 'x-sim-fault': 'tps=100;tokens=6' }, STREAM);
    const text = await res.text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(sseJson(text)).toHaveLength(1 + 6 + 1);
  });
});
