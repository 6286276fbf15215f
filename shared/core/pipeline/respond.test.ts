import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../config/gateway-schema.js';
import { validateConfig } from '../../config/load-config.js';
import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse } from '../../ports/backend-transport.js';
import { FakeClock } from '../test-support/fake-clock.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import type { UsageReading } from '../usage/usage-reading.js';
import { askForUsage, respond } from './respond.js';
import { route } from './route.js';
import { callOf, gatewayRequest, liveContext, readText, snapshotOf } from './test-support/pipeline-fixtures.js';

const fixture = (name: string) => readFileSync(new URL(`../usage/fixtures/${name}`, import.meta.url), 'utf8');

function snapshot(usage: GatewayConfigInput['usage'] = {}) {
  const result = validateConfig({
    backends: [{ id: 'a', url: 'http://a.test', kind: 'openai' }],
    pools: [{ id: 'p', backends: ['a'] }],
    routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
    headers: { stripResponse: ['x-internal'] },
    usage,
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return snapshotOf(result.config);
}

async function routedCall(body: Record<string, unknown>, s = snapshot()) {
  const clock = new FakeClock();
  const call = callOf(gatewayRequest({ body: JSON.stringify(body) }), clock);
  const routed = await route(
    { affinity: { get: async () => undefined }, admission: { authorizeTarget: () => {} } },
    s,
    call,
    liveContext(),
  );
  return { clock, call, routed, s };
}

function backendAnswer(
  status: number,
  contentType: string,
  text: string,
  released: string[],
  retryWaitMs = 0,
): DispatchResult {
  const response: BackendResponse = {
    status,
    headers: { 'content-type': contentType, 'content-length': String(text.length), 'x-internal': 'secret' },
    body: (async function* () {
      // Two chunks, cut mid-line: the tap must hold the unfinished line.
      const half = Math.floor(text.length / 2);
      yield new TextEncoder().encode(text.slice(0, half));
      yield new TextEncoder().encode(text.slice(half));
    })(),
    errorKind: () => 'other',
    dump: async () => undefined,
  };
  return {
    response,
    backend: { id: 'a', group: 'default' } as BackendConfig,
    attempts: [{ backend: 'a', group: 'default', status, error: undefined, durationMs: 20, outcome: 'served' }],
    backendWaitMs: 20,
    retryWaitMs,
    abort: () => released.push('abort'),
    release: () => released.push('release'),
    idleTimeoutMs: 60_000,
  };
}

const chat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

describe('askForUsage', () => {
  it('asks the backend of a streaming chat call for its usage chunk when the caller did not', async () => {
    const { call, routed, s } = await routedCall({ ...chat, stream: true });
    const upstream = askForUsage(s, call, routed);
    expect(upstream.json).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(JSON.parse(new TextDecoder().decode(upstream.body!))).toEqual(upstream.json);
    expect(call.summary).toMatchObject({ stream: true, includeUsageInjected: true });
  });

  it("splices the member into the bytes received: the caller's own spelling reaches the backend", async () => {
    // JSON.stringify would rewrite 1.50 as 1.5, drop the spaces and escape nothing the caller escaped.
    const raw =
      ' { "model" : "gpt-4o", "stream": true, "temperature": 1.50, "messages": [{"role":"user","content":"\\u00e9"}] }';
    const clock = new FakeClock();
    const s = snapshot();
    const call = callOf(gatewayRequest({ body: raw }), clock);
    const deps = { affinity: { get: async () => undefined }, admission: { authorizeTarget: () => {} } };
    const routed = await route(deps, s, call, liveContext());
    const upstream = askForUsage(s, call, routed);
    expect(new TextDecoder().decode(upstream.body!)).toBe(
      ' {"stream_options":{"include_usage":true}, "model" : "gpt-4o", "stream": true, "temperature": 1.50, ' +
        '"messages": [{"role":"user","content":"\\u00e9"}] }',
    );
    expect(upstream.json).toMatchObject({ stream: true, stream_options: { include_usage: true }, temperature: 1.5 });
  });

  it("keeps the caller's other stream options when it adds include_usage", async () => {
    const { call, routed, s } = await routedCall({
      ...chat,
      stream: true,
      stream_options: { include_obfuscation: false },
    });
    const upstream = askForUsage(s, call, routed);
    expect(JSON.parse(new TextDecoder().decode(upstream.body!))).toEqual({
      ...chat,
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
    expect(call.summary.includeUsageInjected).toBe(true);
  });

  it('sends the body unchanged if the call does not stream, the caller asked itself, or injection is off', async () => {
    for (const [body, s] of [
      [chat, snapshot()],
      [{ ...chat, stream: true, stream_options: { include_usage: true } }, snapshot()],
      [{ ...chat, stream: true }, snapshot({ injectIncludeUsage: false })],
      [{ ...chat, stream: true }, snapshot({ enabled: false })],
    ] as const) {
      const t = await routedCall(body, s);
      const upstream = askForUsage(t.s, t.call, t.routed);
      expect(upstream.body).toBe(t.routed.body);
      expect(t.call.summary.includeUsageInjected).toBe(false);
    }
  });
});

describe('respond', () => {
  it('reports as overhead the gateway time only, with waits between attempts apart in server-timing', async () => {
    const { clock, call, routed, s } = await routedCall(chat);
    call.summary.queueWaitMs = 4;
    clock.advance(530);
    const result = backendAnswer(200, 'application/json', fixture('openai-chat.json'), [], 500);
    const response = respond({ clock }, s, call, routed, routed, result, () => undefined);
    // 530 ms in all: 4 queued, 20 on the backend, 500 waiting between attempts — 6 of the gateway's own.
    expect(response.headers.get('x-gateway-overhead-ms')).toBe('6.00');
    expect(response.headers.get('server-timing')).toBe(
      'gateway;dur=6.00, queue;dur=4.00, backend;dur=20.00, retry;dur=500.00',
    );
    expect(call.summary.overheadMs).toBe(6);
    await readText(response.body);
  });

  it("answers with the backend's status and body and the gateway's headers; finishes once with the usage", async () => {
    const { clock, call, routed, s } = await routedCall(chat);
    call.summary.queueWaitMs = 4;
    clock.advance(30);
    const released: string[] = [];
    const usages: UsageReading[] = [];
    const result = backendAnswer(200, 'application/json', fixture('openai-chat.json'), released);
    const response = respond({ clock }, s, call, routed, routed, result, (usage) => usages.push(usage));

    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-request-id')).toBe(call.requestId);
    expect(response.headers.get('x-gateway-backend')).toBe('a');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    // 30 ms in all, 20 waiting on the backend, 4 in the queue.
    expect(response.headers.get('x-gateway-overhead-ms')).toBe('6.00');
    expect(response.headers.get('server-timing')).toBe(
      'gateway;dur=6.00, queue;dur=4.00, backend;dur=20.00, retry;dur=0.00',
    );
    expect(response.headers.get('x-internal')).toBeNull();
    expect(response.headers.get('content-length')).toBe(String(fixture('openai-chat.json').length));
    expect(usages).toEqual([]);

    expect(await readText(response.body)).toBe(fixture('openai-chat.json'));
    expect(released).toEqual(['release']);
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ promptTokens: 19, completionTokens: 10, totalTokens: 29, source: 'reported' });
    expect(call.summary).toMatchObject({
      status: 200,
      outcome: 'complete',
      responseBytes: fixture('openai-chat.json').length,
      ttfbMs: 30,
      overheadMs: 6,
      backend: { id: 'a' },
      usage: usages[0],
    });
  });

  it('hides the usage chunk it asked for from a streaming caller, and meters it', async () => {
    const { clock, call, routed, s } = await routedCall({ ...chat, stream: true });
    const upstream = askForUsage(s, call, routed);
    const usages: UsageReading[] = [];
    const sse = fixture('openai-chat-stream.sse');
    const result = backendAnswer(200, 'text/event-stream', sse, []);
    const response = respond({ clock }, s, call, routed, upstream, result, (usage) => usages.push(usage));
    expect(response.headers.get('content-length')).toBeNull();
    const text = await readText(response.body);
    expect(text).not.toContain('"usage":{"prompt_tokens":1117');
    expect(text).toContain('data: [DONE]');
    expect(usages[0]).toMatchObject({ promptTokens: 1117, completionTokens: 14, source: 'reported' });
    expect(call.summary.stream).toBe(true);
  });

  it('finishes the call with no usage, and reports it, when its meter fails reading the answer', async () => {
    const { clock, call, routed, s } = await routedCall(chat);
    const usages: UsageReading[] = [];
    const exceptions: unknown[] = [];
    const broken = new Error('estimator failed');
    const estimator = {
      countText: () => {
        throw broken;
      },
    };
    const released: string[] = [];
    const answer = JSON.stringify({ model: 'gpt-4o', choices: [{ message: { role: 'assistant', content: 'hi' } }] });
    const telemetry = { exception: (error: unknown) => exceptions.push(error) };
    const result = backendAnswer(200, 'application/json', answer, released);
    const response = respond({ clock, estimator, telemetry }, s, call, routed, routed, result, (u) => usages.push(u));
    expect(await readText(response.body)).toBe(answer);
    expect(released).toEqual(['release']);
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ totalTokens: 0, source: 'none' });
    expect(call.summary).toMatchObject({ status: 200, outcome: 'complete', usage: usages[0] });
    expect(exceptions).toEqual([broken]);
  });

  it('bills nothing for an error answer from the backend', async () => {
    const { clock, call, routed, s } = await routedCall(chat);
    const usages: UsageReading[] = [];
    const error = JSON.stringify({ error: { message: 'bad', type: 'invalid_request_error', code: 'x' } });
    const response = respond(
      { clock },
      s,
      call,
      routed,
      routed,
      backendAnswer(400, 'application/json', error, []),
      (u) => usages.push(u),
    );
    expect(await readText(response.body)).toBe(error);
    expect(call.summary.usage).toMatchObject({ totalTokens: 0, source: 'none' });
    expect(call.summary).toMatchObject({ status: 400, outcome: 'complete' });
  });
});
