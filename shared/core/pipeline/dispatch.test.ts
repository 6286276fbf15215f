import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import { MemoryBackendHealthStore } from '../../adapters/memory/memory-backend-health-store.js';
import { createStaticCredentialProvider } from '../../adapters/memory/static-credential-provider.js';
import { HealthTracker } from '../resilience/health-tracker.js';
import { createEngineSnapshots } from './engine-snapshot.js';
import { FakeClock } from '../test-support/fake-clock.js';
import type { AttemptRecord, DispatchInput, DispatchResult } from '../dispatch/dispatcher.js';
import { GatewayError } from '../errors/gateway-error.js';
import { dispatchWithFallbacks } from './dispatch.js';
import { route } from './route.js';
import {
  callOf,
  gatewayRequest,
  liveContext,
  scriptedDispatcher,
  snapshotOf,
} from './test-support/pipeline-fixtures.js';

const result = validateConfig({
  backends: [
    { id: 'big', url: 'http://big.test', kind: 'openai' },
    { id: 'small', url: 'http://small.test', kind: 'openai' },
  ],
  pools: [
    { id: 'big', backends: ['big'] },
    { id: 'small', backends: ['small'] },
  ],
  routes: [
    { id: 'big', match: { models: ['gpt-big'] }, pool: 'big', fallbacks: ['small'] },
    { id: 'small', match: { models: ['gpt-small', 'gpt-small-*'] }, pool: 'small' },
  ],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const config = result.config;

const attempt = (backend: string, status: number, outcome: AttemptRecord['outcome']): AttemptRecord => ({
  backend,
  group: 'default',
  status,
  error: undefined,
  durationMs: 5,
  outcome,
});
const served = (input: DispatchInput): DispatchResult => ({
  response: { status: 200 } as BackendResponse,
  backend: { id: input.pool.id } as BackendConfig,
  attempts: [attempt(input.pool.id, 200, 'served')],
  backendWaitMs: 5,
  retryWaitMs: 3,
  abort: () => {},
  release: () => {},
  idleTimeoutMs: 1_000,
});
/** A dispatch that failed with `code` (the real dispatcher's errors also carry attempts: tested below). */
function failed(code: 'GW_ERR_BACKEND_EXHAUSTED' | 'GW_ERR_REQUEST_INVALID_JSON'): never {
  throw new GatewayError(code, { retryAfterMs: 1_000 });
}

async function setUp(answer: (input: DispatchInput) => Promise<DispatchResult>, model = 'gpt-big') {
  const clock = new FakeClock();
  const dispatcher = scriptedDispatcher(answer);
  const s = snapshotOf(config, dispatcher);
  const call = callOf(
    gatewayRequest({
      body: JSON.stringify({ model, messages: [] }),
      headers: { 'content-type': 'application/json', 'api-key': 'k' },
    }),
    clock,
  );
  const routed = await route(
    { affinity: { get: async () => undefined }, admission: { authorizeTarget: () => {} } },
    s,
    call,
    liveContext(),
  );
  const leased: string[] = [];
  const lease = async (poolId: string) => {
    leased.push(poolId);
    clock.advance(10); // time spent waiting for capacity
  };
  return { clock, dispatcher, s, call, routed, leased, lease };
}

describe('dispatchWithFallbacks', () => {
  it("serves from the route's pool after taking a lease there, and counts the wait as queue time", async () => {
    const t = await setUp(async (input) => served(input));
    const result = await dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease);
    expect(result.backend.id).toBe('big');
    expect(t.leased).toEqual(['big']);
    expect(t.call.summary).toMatchObject({ routeId: 'big', queueWaitMs: 10, attempts: result.attempts });
    const input = t.dispatcher.inputs[0]!;
    expect(input).toMatchObject({ model: 'gpt-big', route: { id: 'big' }, pool: { id: 'big' } });
    // Caller credentials travel apart from the headers, for passthrough backends only.
    expect(input.callerCredentials).toEqual({ 'api-key': 'k' });
    expect(input.headers['api-key']).toBeUndefined();
  });

  it('moves on to the fallback route with its own model and pool when the pool is exhausted', async () => {
    const t = await setUp(async (input) =>
      input.pool.id === 'big' ? failed('GW_ERR_BACKEND_EXHAUSTED') : served(input),
    );
    const result = await dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease);
    expect(result.backend.id).toBe('small');
    expect(t.leased).toEqual(['big', 'small']);
    expect(t.dispatcher.inputs.map((i) => [i.route.id, i.model])).toEqual([
      ['big', 'gpt-big'],
      ['small', 'gpt-small'],
    ]);
    expect(t.call.summary).toMatchObject({ routeId: 'small', queueWaitMs: 20 });
  });

  it('counts every attempt as backend time and the time of a route that could not serve as retry wait', async () => {
    const clocks: FakeClock[] = [];
    const t = await setUp(async (input) => {
      if (input.pool.id !== 'big') return served(input);
      clocks[0]!.advance(50); // the exhausted route's backoff and Retry-After waits
      return failed('GW_ERR_BACKEND_EXHAUSTED');
    });
    clocks.push(t.clock);
    const result = await dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease);
    expect(result.backendWaitMs).toBe(5);
    expect(result.retryWaitMs).toBe(53);
    expect(t.call.summary.queueWaitMs).toBe(20);
  });

  it("never moves the caller's own error on to a fallback", async () => {
    const t = await setUp(async () => failed('GW_ERR_REQUEST_INVALID_JSON'));
    await expect(dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease)).rejects.toMatchObject({
      code: 'GW_ERR_REQUEST_INVALID_JSON',
    });
    expect(t.dispatcher.inputs).toHaveLength(1);
  });

  it('names every route tried when the whole chain is exhausted', async () => {
    const t = await setUp(async () => failed('GW_ERR_BACKEND_EXHAUSTED'));
    const failure = await dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({
      code: 'GW_ERR_BACKEND_EXHAUSTED',
      retryAfterMs: 1_000,
      details: { routes: ['big', 'small'], attempts: [] },
    });
  });

  it("keeps every route's attempts, over the real dispatcher, in the summary and the served result", async () => {
    const clock = new FakeClock();
    const sent: string[] = [];
    const transport: BackendTransport = {
      send: async (request) => {
        sent.push(request.backendId);
        const status = request.backendId === 'big' ? 503 : 200;
        return {
          status,
          headers: { 'content-type': 'application/json' },
          body: (async function* () {
            yield new TextEncoder().encode('{}');
          })(),
          errorKind: () => 'other',
          dump: async () => undefined,
        };
      },
      close: async () => undefined,
    };
    const fast = validateConfig({
      ...config,
      resilience: { retry: { maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 } },
    });
    if (!fast.ok) throw new Error(fast.issues.join('\n'));
    const health = new HealthTracker(
      { store: new MemoryBackendHealthStore(), clock, onError: (error) => expect.fail(String(error)) },
      { ...fast.config.resilience.health, breaker: fast.config.resilience.breaker },
    );
    const snapshot = createEngineSnapshots({
      config: () => fast.config,
      transport,
      credentials: createStaticCredentialProvider({}),
      clock,
      health,
      random: () => 0,
    });
    const s = snapshot();
    expect(snapshot()).toBe(s);
    const call = callOf(gatewayRequest({ body: JSON.stringify({ model: 'gpt-big', messages: [] }) }), clock);
    const routed = await route(
      { affinity: { get: async () => undefined }, admission: { authorizeTarget: () => {} } },
      s,
      call,
      liveContext(),
    );
    const result = await dispatchWithFallbacks(clock, s, call, routed, routed, async () => undefined);
    result.release();
    expect(sent).toEqual(['big', 'small']);
    expect(result.attempts.map((a) => [a.backend, a.status, a.outcome])).toEqual([
      ['big', 503, 'failover'],
      ['small', 200, 'served'],
    ]);
    expect(call.summary.attempts).toEqual(result.attempts);
  });

  it('fails without a fallback as the pool failed', async () => {
    const t = await setUp(async () => failed('GW_ERR_BACKEND_EXHAUSTED'), 'gpt-small');
    const failure = await dispatchWithFallbacks(t.clock, t.s, t.call, t.routed, t.routed, t.lease).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 'GW_ERR_BACKEND_EXHAUSTED' });
    expect((failure as GatewayError).details).toBeUndefined();
  });
});
