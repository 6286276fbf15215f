import { describe, expect, it } from 'vitest';
import { MemoryBackendHealthStore } from '../../adapters/memory/memory-backend-health-store.js';
import { createStaticCredentialProvider } from '../../adapters/memory/static-credential-provider.js';
import { validateConfig } from '../../config/load-config.js';
import type { BackendRequest, BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import { TransportError } from '../../ports/backend-transport.js';
import { GatewayError } from '../errors/gateway-error.js';
import { HealthTracker } from '../resilience/health-tracker.js';
import { parseRequestTarget } from '../routing/request-target.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { attemptsOf } from './dispatch-errors.js';
import { createDispatcher, type DispatchInput } from './dispatcher.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What a scripted backend does with one request: answer, or fail as a transport would. */
type Script = (request: BackendRequest) => BackendResponse;

function answer(status: number, body: string | string[], headers: BackendResponse['headers'] = {}): Script {
  const chunks = typeof body === 'string' ? [body] : body;
  return () => ({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: (async function* () {
      for (const chunk of chunks) yield bytes(chunk);
    })(),
    errorKind: () => 'reset',
    dump: async () => undefined,
  });
}
const stream = (events: string[]): Script => answer(200, events, { 'content-type': 'text/event-stream' });
const fail =
  (kind: 'connect-refused' | 'ttfb-timeout'): Script =>
  () => {
    throw new TransportError(kind, kind);
  };

/** A transport whose backends answer from their scripts in turn; it records what each was sent. */
function scriptedTransport(scripts: Record<string, Script[]>): BackendTransport & { sent: BackendRequest[] } {
  const sent: BackendRequest[] = [];
  return {
    sent,
    async send(request) {
      sent.push(request);
      const next = scripts[request.backendId]?.shift();
      if (next === undefined) throw new Error(`no script left for ${request.backendId}`);
      return next(request);
    },
    close: async () => undefined,
  };
}

const result = validateConfig({
  backends: [
    { id: 'a', url: 'http://a.test/v1', kind: 'openai', models: { 'gpt-4o': 'gpt-4o-2024-08-06' } },
    { id: 'b', url: 'http://b.test', kind: 'openai' },
  ],
  pools: [{ id: 'chat', backends: ['a', 'b'] }],
  routes: [{ id: 'chat', match: { models: ['*'] }, pool: 'chat' }],
  resilience: { retry: { maxAttempts: 4, backoffBaseMs: 1, backoffMaxMs: 1 } },
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const { config } = result;

function setUp(
  scripts: Record<string, Script[]>,
  credentials: CredentialProvider = createStaticCredentialProvider({}),
) {
  const clock = new FakeClock();
  const transport = scriptedTransport(scripts);
  const health = new HealthTracker(
    { store: new MemoryBackendHealthStore(), clock, onError: (error) => expect.fail(String(error)) },
    { ...config.resilience.health, breaker: config.resilience.breaker },
  );
  const dispatcher = createDispatcher({
    transport,
    credentials,
    clock,
    health,
    resilience: config.resilience,
    backends: new Map(config.backends.map((b) => [b.id, b])),
    // The first of the weighted draw, so 'a' leads each plan; no backoff between passes.
    random: () => 0,
    roundRobin: new Map(),
  });
  const json = { model: 'gpt-4o', stream: true, messages: [] };
  const input = (extra: Partial<DispatchInput> = {}): DispatchInput => ({
    requestId: 'req_1',
    method: 'POST',
    target: parseRequestTarget('/v1/chat/completions', ''),
    route: config.routes[0]!,
    pool: config.pools[0]!,
    model: 'gpt-4o',
    forwardPath: undefined,
    body: bytes(JSON.stringify(json)),
    json,
    headers: { 'content-type': 'application/json' },
    callerCredentials: {},
    signal: new AbortController().signal,
    deadlineMs: clock.now() + 60_000,
    attemptTimeoutMs: undefined,
    ...extra,
  });
  return { clock, transport, health, dispatcher, input };
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += new TextDecoder().decode(chunk);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => expect.fail('the dispatch should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

const outcomes = (attempts: readonly { backend: string; status?: number; error?: string; outcome: string }[]) =>
  attempts.map((a) => `${a.backend} ${a.error ?? a.status} ${a.outcome}`);

describe('createDispatcher', () => {
  it('writes the request for each backend: its origin and base path, its name for the model', async () => {
    const { transport, dispatcher, input } = setUp({ a: [answer(500, '{}')], b: [answer(200, '{"ok":1}')] });
    const served = await dispatcher.dispatch(input());
    served.release();
    const [toA, toB] = transport.sent;
    expect([toA!.origin, toA!.path, toB!.origin, toB!.path]).toEqual([
      'http://a.test',
      '/v1/chat/completions',
      'http://b.test',
      '/v1/chat/completions',
    ]);
    expect(JSON.parse(new TextDecoder().decode(toA!.body!)).model).toBe('gpt-4o-2024-08-06');
    expect(JSON.parse(new TextDecoder().decode(toB!.body!)).model).toBe('gpt-4o');
    expect(toB!.headers['x-gateway-request-id']).toBe('req_1');
  });

  it("sends the provider's credential headers, whether it answers at once or with any thenable", async () => {
    const answers: Record<string, unknown> = {
      a: { authorization: 'Bearer now' },
      // Not a native Promise (another realm, a promise library): awaited all the same.
      b: { then: (resolve: (headers: Record<string, string>) => void) => resolve({ authorization: 'Bearer later' }) },
    };
    const credentials = { headersFor: (backend: { id: string }) => answers[backend.id] } as CredentialProvider;
    const { transport, dispatcher, input } = setUp(
      { a: [answer(500, '{}')], b: [answer(200, '{"ok":1}')] },
      credentials,
    );
    (await dispatcher.dispatch(input())).release();
    expect(transport.sent.map((r) => r.headers.authorization)).toEqual(['Bearer now', 'Bearer later']);
  });

  it('fails over from a 500 to the next member at once, and reports both attempts', async () => {
    const { dispatcher, input } = setUp({ a: [answer(500, '{}')], b: [answer(200, '{"ok":1}')] });
    const served = await dispatcher.dispatch(input());
    expect(served.backend.id).toBe('b');
    expect(await text(served.response.body)).toBe('{"ok":1}');
    served.release();
    expect(outcomes(served.attempts)).toEqual(['a 500 failover', 'b 200 served']);
    expect(served.retryWaitMs).toBe(0);
  });

  it("returns the caller's own fault verbatim, without trying another member", async () => {
    const refusal = JSON.stringify({ error: { code: 'context_length_exceeded', message: 'too long' } });
    const { transport, dispatcher, input } = setUp({ a: [answer(400, refusal)], b: [] });
    const served = await dispatcher.dispatch(input());
    expect(served.response.status).toBe(400);
    expect(await text(served.response.body)).toBe(refusal);
    expect(served.refusal).toBe('context-length');
    expect(transport.sent).toHaveLength(1);
  });

  it('hands over a stream only once its first event came; one that ends before it fails over', async () => {
    const { dispatcher, input } = setUp({ a: [stream([])], b: [stream(['data: 1\n\n', 'data: [DONE]\n\n'])] });
    const served = await dispatcher.dispatch(input());
    expect(await text(served.response.body)).toBe('data: 1\n\ndata: [DONE]\n\n');
    served.release();
    expect(outcomes(served.attempts)).toEqual(['a reset failover', 'b 200 served']);
  });

  it("answers the pool's last failure when every member is spent, with the attempts made", async () => {
    const { dispatcher, input } = setUp({ a: [fail('ttfb-timeout')], b: [fail('connect-refused')] });
    const error = await failure(dispatcher.dispatch(input()));
    expect(error.code).toBe('GW_ERR_BACKEND_EXHAUSTED');
    expect(outcomes(attemptsOf(error))).toEqual(['a ttfb-timeout failover', 'b connect-refused failover']);
  });

  it("returns a member's 404 verbatim when the deployment is missing on every member", async () => {
    const missing = JSON.stringify({ error: { code: 'DeploymentNotFound', message: 'no such deployment' } });
    const { dispatcher, input } = setUp({ a: [answer(404, missing)], b: [answer(404, missing)] });
    const served = await dispatcher.dispatch(input());
    expect(served.backend.id).toBe('a');
    expect(await text(served.response.body)).toBe(missing);
    expect(outcomes(served.attempts)).toEqual(['a 404 served', 'b 404 failover']);
  });

  it('moves on from a 429 at once; with every member cooling, requeues until the earliest', async () => {
    const throttled = answer(429, '{}', { 'retry-after-ms': '400' });
    const { clock, health, dispatcher, input } = setUp({ a: [throttled, answer(200, '{}')], b: [answer(429, '{}')] });
    const requeues: number[] = [];
    const requeue = async (untilMs: number) => {
      expect(health.snapshot('a').coolingUntilMs).toBe(untilMs);
      requeues.push(untilMs - clock.now());
      clock.advance(untilMs - clock.now());
    };
    const served = await dispatcher.dispatch(input({ requeue }));
    served.release();
    expect(requeues).toEqual([400]);
    expect(served.retryWaitMs).toBe(400);
    expect(outcomes(served.attempts)).toEqual(['a 429 failover', 'b 429 failover', 'a 200 served']);
  });

  it('answers 429 throttled with a retry-after when every member cools beyond the TTL', async () => {
    const throttled = () => answer(429, '{}', { 'retry-after-ms': '5000' });
    const { clock, dispatcher, input } = setUp({ a: [throttled()], b: [throttled()] });
    const error = await failure(dispatcher.dispatch(input({ deadlineMs: clock.now() + 2_000 })));
    expect(error.code).toBe('GW_ERR_BACKEND_THROTTLED');
    expect(error.retryAfterMs).toBe(5_000);
  });

  it('tries nobody once the TTL has run out', async () => {
    const { clock, transport, dispatcher, input } = setUp({ a: [], b: [] });
    const error = await failure(dispatcher.dispatch(input({ deadlineMs: clock.now() })));
    expect(error.code).toBe('GW_ERR_REQUEST_TTL_EXPIRED');
    expect(transport.sent).toHaveLength(0);
  });

  it('tries only the pinned member, and none that the call excludes', async () => {
    const pinned = setUp({ a: [], b: [answer(200, '{}')] });
    const served = await pinned.dispatcher.dispatch(pinned.input({ pinnedBackendId: 'b' }));
    served.release();
    expect(outcomes(served.attempts)).toEqual(['b 200 served']);
    const excluded = setUp({ a: [], b: [answer(200, '{}')] });
    const other = await excluded.dispatcher.dispatch(excluded.input({ excludeBackendIds: ['a'] }));
    other.release();
    expect(outcomes(other.attempts)).toEqual(['b 200 served']);
  });

  it('stops at once when the caller has gone', async () => {
    const { transport, dispatcher, input } = setUp({ a: [], b: [] });
    const error = await failure(dispatcher.dispatch(input({ signal: AbortSignal.abort() })));
    expect(error.code).toBe('GW_ERR_REQUEST_CLIENT_CLOSED');
    expect(transport.sent).toHaveLength(0);
  });
});
