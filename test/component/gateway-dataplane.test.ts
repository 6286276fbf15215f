import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, postJson, readSse, startHarness, type Harness } from '../support/gateway-harness.js';

const chat = (model = 'gpt-4o-mini', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Hello there' }],
  ...extra,
});

/** The `server-timing` parts of a response: name → duration in ms, in header order. */
function serverTiming(response: Response): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const part of (response.headers.get('server-timing') ?? '').split(',')) {
    const match = /^\s*([\w-]+);dur=([\d.]+)\s*$/.exec(part);
    if (match !== null) parts[match[1]!] = Number(match[2]);
  }
  return parts;
}

describe('data plane through the engine and the simulator', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {}, c: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            { id: 'a', url: urls.a!, kind: 'openai', group: 'ptu' },
            { id: 'b', url: urls.b!, kind: 'openai', group: 'payg' },
            { id: 'c', url: urls.c!, kind: 'http' },
          ],
          pools: [
            { id: 'main', backends: ['a', 'b'], groupOrder: ['ptu', 'payg'] },
            { id: 'http', backends: ['c'] },
          ],
          routes: [
            { id: 'gpt-4o-mini', match: { models: ['gpt-4o-mini'] }, pool: 'main' },
            { id: 'big', match: { models: ['gpt-big'] }, pool: 'main', fallbacks: ['gpt-4o-mini'] },
            { id: 'echo', match: { pathPrefix: '/echo' }, pool: 'http' },
          ],
          headers: { stripRequest: ['x-internal-secret'], stripResponse: ['x-sim-instance'] },
          limits: { maxBodyBytes: 64 * 1024, maxHeaderBytes: 16 * 1024 },
          resilience: { deadlines: { firstByteMs: 500 }, breaker: { openIntervalMs: 60_000 } },
        }),
    });
  });
  afterEach(async () => h.close());

  it('serves a chat completion from the first priority group with the gateway headers', async () => {
    const sentAt = performance.now();
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    const totalMs = performance.now() - sentAt;
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      model: string;
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.usage.completion_tokens).toBe(16);
    expect(response.headers.get('x-gateway-backend')).toBe('a');
    expect(response.headers.get('x-gateway-route')).toBe('gpt-4o-mini');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    expect(response.headers.get('x-gateway-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const overhead = response.headers.get('x-gateway-overhead-ms');
    expect(overhead).toMatch(/^\d+\.\d\d$/);
    expect(Number(overhead)).toBeLessThanOrEqual(totalMs);
    const timing = serverTiming(response);
    expect(Object.keys(timing)).toEqual(['gateway', 'queue', 'backend', 'retry']);
    expect(timing.gateway).toBe(Number(overhead));
    expect(timing.retry).toBe(0);
    expect(response.headers.get('x-sim-instance')).toBeNull();
    expect(h.sims.a!.attempts()).toHaveLength(1);
    expect(h.sims.b!.attempts()).toHaveLength(0);
  });

  it('streams a chat completion chunk by chunk and ends with [DONE]', async () => {
    const response = await postJson(
      `${h.url}/v1/chat/completions`,
      chat('gpt-4o-mini', { stream: true, stream_options: { include_usage: true } }),
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events, ended } = await readSse(response);
    expect(ended).toBe('clean');
    expect(events.at(-1)).toBe('[DONE]');
    const usage = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { usage?: { completion_tokens: number } | null })
      .find((e) => e.usage);
    expect(usage?.usage?.completion_tokens).toBe(16);
  });

  it('drops hop-by-hop, S7P*, X-MS-CLIENT*, x-gateway-* and configured headers on the way to the backend', async () => {
    await postJson(`${h.url}/v1/chat/completions`, chat(), {
      S7PPriorityKey: 'high',
      'X-MS-CLIENT-PRINCIPAL-ID': 'app',
      'x-gateway-ttl': '30',
      'x-internal-secret': 's',
      'x-custom': 'kept',
      'api-key': 'caller',
    });
    const seen = h.sims.a!.attempts()[0]!.headers;
    expect(seen['x-custom']).toBe('kept');
    for (const name of ['s7pprioritykey', 'x-ms-client-principal-id', 'x-gateway-ttl', 'x-internal-secret', 'api-key'])
      expect(seen[name]).toBeUndefined();
    expect(seen['x-gateway-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails over to the next group when the first answers 500, and the caller sees one clean answer', async () => {
    h.sims.a!.configure({ faults: ['500'] });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-backend')).toBe('b');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(h.sims.a!.attempts().map((a) => a.status)).toEqual([500]);
  });

  it('moves on at once from a throttled backend and keeps it cooling for its retry-after', async () => {
    h.sims.a!.configure({ faults: ['429;retry-after-ms=5000'] });
    const first = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(first.headers.get('x-gateway-backend')).toBe('b');
    const second = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(second.headers.get('x-gateway-backend')).toBe('b');
    // The cooling backend was not called again.
    expect(h.sims.a!.attempts()).toHaveLength(1);
  });

  it('reports waits between attempts as retry time in server-timing, never as gateway overhead', async () => {
    // Both backends throttle once: the call waits for the earlier Retry-After, then the third attempt is served.
    h.sims.a!.configure({ faults: ['429;retry-after-ms=1000;times=1'] });
    h.sims.b!.configure({ faults: ['429;retry-after-ms=1000;times=1'] });
    const sentAt = performance.now();
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    const totalMs = performance.now() - sentAt;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-attempts')).toBe('3');
    const timing = serverTiming(response);
    // The wait lasts until the first backend's cooling ends: most of its 1,000 ms come after both 429s.
    expect(timing.retry).toBeGreaterThanOrEqual(500);
    expect(Number(response.headers.get('x-gateway-overhead-ms'))).toBe(timing.gateway);
    // The four parts add up to the time to the headers, which the caller saw within its total.
    const parts = timing.gateway! + timing.queue! + timing.backend! + timing.retry!;
    expect(parts).toBeLessThanOrEqual(totalMs);
    expect(parts).toBeGreaterThanOrEqual(timing.retry! + timing.backend!);
    const summary = h.calls.at(-1) ?? (await h.nextCall());
    expect(summary.overheadMs).toBeCloseTo(timing.gateway!, 1);
    expect(summary.ttfbMs! - parts).toBeLessThan(0.05);
  });

  it('returns a caller error (context length) verbatim without retrying', async () => {
    const response = await postJson(`${h.url}/v1/chat/completions`, chat(), { 'x-sim-fault': 'context-length' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe('context_length_exceeded');
    expect(h.sims.a!.attempts().length + h.sims.b!.attempts().length).toBe(1);
  });

  it('fails over when a backend resets the connection before headers', async () => {
    h.sims.a!.configure({ faults: ['reset;times=1'] });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('x-gateway-attempts'))).toBeGreaterThanOrEqual(2);
  });

  it('abandons a silent backend at the first-byte deadline and fails over', async () => {
    h.sims.a!.configure({ faults: ['hang;times=1'] });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-backend')).toBe('b');
  });

  it('ends a stream cut mid-answer with a terminal SSE error event, never a clean end', async () => {
    const response = await postJson(`${h.url}/v1/chat/completions`, chat('gpt-4o-mini', { stream: true }), {
      'x-sim-fault': 'cut;after=3',
    });
    expect(response.status).toBe(200);
    const { events, ended } = await readSse(response);
    expect(ended).toBe('error');
    expect(events).not.toContain('[DONE]');
    const last = JSON.parse(events.at(-1)!) as { error: { code: string } };
    expect(last.error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
    const call = h.calls.at(-1)!;
    expect(call.outcome).toBe('cut');
  });

  it('answers 502 with every attempt listed when all backends fail', async () => {
    h.sims.a!.configure({ faults: ['503'] });
    h.sims.b!.configure({ faults: ['503'] });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat());
    expect(response.status).toBe(502);
    expect(response.headers.get('x-gateway-error-code')).toBe('GW_ERR_BACKEND_EXHAUSTED');
    const body = (await response.json()) as { error: { attempts: { backend: string; status: number }[] } };
    expect(body.error.attempts.map((a) => a.backend)).toContain('a');
    expect(body.error.attempts.every((a) => a.status === 503)).toBe(true);
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
  });

  it('uses the fallback route (another model) when the pool is exhausted; the caller sees the model', async () => {
    h.sims.a!.configure({ faults: ['503;model=gpt-big'] });
    h.sims.b!.configure({ faults: ['503;model=gpt-big'] });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat('gpt-big'));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { model: string };
    expect(body.model).toBe('gpt-4o-mini');
    expect(h.calls.at(-1)!.routeId).toBe('gpt-4o-mini');
    // The fallback is visible: the route that served, and every route's attempts in one count.
    expect(response.headers.get('x-gateway-route')).toBe('gpt-4o-mini');
    const attempts = Number(response.headers.get('x-gateway-attempts'));
    expect(attempts).toBe(h.calls.at(-1)!.attempts.length);
    expect(h.calls.at(-1)!.attempts.filter((a) => a.status === 503).length).toBe(attempts - 1);
  });

  it('translates an Azure OpenAI deployment call for an OpenAI-compatible backend', async () => {
    const response = await postJson(`${h.url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    const seen = h.sims.a!.attempts()[0]!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.model).toBe('gpt-4o-mini');
    expect(seen.query).toBe('');
  });

  it('routes a plain path prefix and strips it', async () => {
    const response = await fetch(`${h.url}/echo/v1/models?x=1`);
    expect(response.status).toBe(200);
    expect(h.sims.c!.attempts()[0]).toMatchObject({ path: '/v1/models', query: 'x=1' });
  });

  it('lists the routed models on /v1/models', async () => {
    const response = await fetch(`${h.url}/v1/models`);
    const body = (await response.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id).sort()).toEqual(['gpt-4o-mini', 'gpt-big']);
  });

  it.each([
    ['malformed JSON', '{"model": ', 400, 'GW_ERR_REQUEST_INVALID_JSON'],
    ['a JSON array', '[1,2]', 400, 'GW_ERR_REQUEST_INVALID_JSON'],
    ['no model', '{"messages":[]}', 400, 'GW_ERR_REQUEST_MODEL_MISSING'],
    ['an unknown model', '{"model":"nope","messages":[]}', 404, 'GW_ERR_REQUEST_MODEL_NOT_FOUND'],
    [
      'an oversized body',
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] }),
      413,
      'GW_ERR_REQUEST_BODY_TOO_LARGE',
    ],
  ])('answers %s with a 4xx in the error envelope and reaches no backend', async (_name, body, status, code) => {
    const response = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('x-gateway-error-code')).toBe(code);
    const envelope = (await response.json()) as { error: { code: string; request_id: string; type: string } };
    expect(envelope.error.code).toBe(code);
    expect(envelope.error.request_id).toBe(response.headers.get('x-gateway-request-id'));
    expect(h.sims.a!.attempts().length + h.sims.b!.attempts().length).toBe(0);
  });

  it('answers an unknown path with 404 in the envelope', async () => {
    const response = await fetch(`${h.url}/nothing/here`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-gateway-error-code')).toBe('GW_ERR_REQUEST_ROUTE_NOT_FOUND');
  });

  it('answers oversized request headers with 431 and stays healthy', async () => {
    const response = await fetch(`${h.url}/v1/models`, { headers: { 'x-big': 'y'.repeat(20 * 1024) } });
    expect(response.status).toBe(431);
    expect((await fetch(`${h.url}/health/live`)).status).toBe(200);
  });

  it('stops the backend call when the caller goes away mid-stream', async () => {
    const ended = h.nextCall();
    const response = await postJson(`${h.url}/v1/chat/completions`, chat('gpt-4o-mini', { stream: true }), {
      'x-sim-fault': 'tps=20;tokens=200',
    });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const summary = await ended;
    expect(summary.outcome).toBe('caller_aborted');
  });

  it('reports readiness with the usable backend count', async () => {
    const response = await fetch(`${h.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', backends: { configured: 3 } });
  });
});
