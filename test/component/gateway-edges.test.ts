import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const chat = (model = 'gpt-4o-mini', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

describe('edges of the request path', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it('asks backends for identity encoding, so a gzip-capable caller is metered from the reported usage', async () => {
    h = await startHarness({ simulators: { a: {} } });
    const response = await postJson(`${h.url}/v1/chat/completions`, chat(), { 'accept-encoding': 'gzip, deflate, br' });
    expect(response.status).toBe(200);
    expect(h.sims.a!.attempts()[0]!.headers['accept-encoding']).toBeUndefined();
    const call = await new Promise<NonNullable<Harness['calls'][number]>>((resolve) =>
      h!.calls.length > 0 ? resolve(h!.calls[0]!) : void h!.nextCall().then(resolve),
    );
    expect(call.usage?.source).toBe('reported');
  });

  it('uses the fallback route when every breaker of the primary pool is open, instead of answering 503', async () => {
    h = await startHarness({
      simulators: { big: {}, small: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            { id: 'big', url: urls.big!, kind: 'openai' },
            { id: 'small', url: urls.small!, kind: 'openai' },
          ],
          pools: [
            { id: 'big', backends: ['big'] },
            { id: 'small', backends: ['small'] },
          ],
          routes: [
            { id: 'big', match: { models: ['gpt-big'] }, pool: 'big', fallbacks: ['small'] },
            { id: 'small', match: { models: ['gpt-4o-mini'] }, pool: 'small' },
          ],
          resilience: {
            breaker: { failureThreshold: 2, minimumRequests: 2, openIntervalMs: 60_000 },
            retry: { backoffBaseMs: 1, backoffMaxMs: 5 },
          },
        }),
    });
    h.sims.big!.configure({ faults: ['503'] });
    const first = await postJson(`${h.url}/v1/chat/completions`, chat('gpt-big'));
    expect(first.status).toBe(200);
    expect(h.runtime.health.snapshot('big').state).toBe('open');
    const before = h.sims.big!.attempts().length;
    const second = await postJson(`${h.url}/v1/chat/completions`, chat('gpt-big'));
    expect(second.status).toBe(200);
    expect(second.headers.get('x-gateway-backend')).toBe('small');
    expect(h.sims.big!.attempts().length).toBe(before);
  });

  it('records a caller that leaves while its call waits in the queue as caller_aborted (499), not a 500', async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, { backends: [{ id: 'a', url: urls.a!, kind: 'openai', maxConcurrency: 1 }] }),
    });
    const holding = postJson(`${h.url}/v1/chat/completions`, chat(), { 'x-sim-fault': 'latency-ms=800' });
    await h.sims.a!.waitForAttempts(1);
    const controller = new AbortController();
    const ended = h.nextCall();
    const queued = fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat()),
      signal: controller.signal,
    }).catch(() => undefined);
    for (let i = 0; i < 10_000 && h.runtime.gate.waiting === 0; i++) await new Promise((r) => setImmediate(r));
    expect(h.runtime.gate.waiting).toBe(1);
    controller.abort();
    await queued;
    const summary = await ended;
    expect(summary.errorCode).toBe('GW_ERR_REQUEST_CLIENT_CLOSED');
    expect(summary.outcome).toBe('caller_aborted');
    expect((await holding).status).toBe(200);
  });
});
