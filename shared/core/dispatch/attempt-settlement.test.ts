import { describe, expect, it } from 'vitest';
import { MemoryBackendHealthStore } from '../../adapters/memory/memory-backend-health-store.js';
import { createStaticCredentialProvider } from '../../adapters/memory/static-credential-provider.js';
import { validateConfig } from '../../config/load-config.js';
import type { BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import { GatewayError } from '../errors/gateway-error.js';
import { classifyFailure, type AttemptOutcome } from '../resilience/failure-classifier.js';
import { HealthTracker } from '../resilience/health-tracker.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { serve, settleFailure, type FailedVerdict } from './attempt-settlement.js';
import { startCall } from './call-state.js';
import { createDispatchContext } from './dispatch-context.js';
import type { DispatchInput } from './dispatcher.js';
import type { AttemptResult } from './run-attempt.js';

const result = validateConfig({
  backends: [{ id: 'a', url: 'http://a.test', kind: 'openai' }],
  pools: [{ id: 'chat', backends: ['a'] }],
  routes: [{ id: 'chat', match: { models: ['*'] }, pool: 'chat' }],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const { config } = result;
const backend = config.backends[0]!;

function setUp() {
  const clock = new FakeClock();
  const health = new HealthTracker(
    { store: new MemoryBackendHealthStore(), clock, onError: (error) => expect.fail(String(error)) },
    { ...config.resilience.health, breaker: config.resilience.breaker },
  );
  const ctx = createDispatchContext({
    transport: {} as BackendTransport,
    credentials: createStaticCredentialProvider({}),
    clock,
    health,
    resilience: config.resilience,
    backends: new Map([[backend.id, backend]]),
    random: () => 0,
    roundRobin: new Map(),
  });
  const call = startCall(ctx, { excludeBackendIds: undefined } as DispatchInput);
  health.tryAcquire(backend.id, clock.now());
  return { clock, health, ctx, call };
}

/** An attempt as runAttempt reports it, with the real classifier's verdict. */
function attempt(outcome: Omit<AttemptOutcome, 'gatewayCredentials'>, durationMs = 20, response?: BackendResponse) {
  const verdict = classifyFailure({ ...outcome, gatewayCredentials: false });
  const finished: AttemptResult = {
    verdict,
    response,
    status: outcome.status,
    errorKind: outcome.errorKind,
    durationMs,
    abort: () => undefined,
    release: () => undefined,
    idleTimeoutMs: 1_000,
  };
  return { finished, verdict: verdict as FailedVerdict };
}

describe('settleFailure', () => {
  it('keeps a fast transient failure in the call, and spends a slow one', () => {
    const { ctx, call } = setUp();
    const fast = attempt({ phase: 'headers', status: 503 });
    settleFailure(ctx, call, backend, fast.finished, fast.verdict);
    expect(call.spent.has('a')).toBe(false);
    const slow = attempt({ phase: 'headers', status: 503 }, config.resilience.retry.fastFailureMs);
    settleFailure(ctx, call, backend, slow.finished, slow.verdict);
    expect(call.spent.has('a')).toBe(true);
    expect(call.attempts.map((a) => a.outcome)).toEqual(['failover', 'failover']);
    expect(call.lastVerdict).toBe(slow.verdict);
  });

  it('cools a throttled backend for its Retry-After, without spending it', () => {
    const { clock, health, ctx, call } = setUp();
    const throttled = attempt({ phase: 'headers', status: 429, retryAfterMs: 3_000 });
    settleFailure(ctx, call, backend, throttled.finished, throttled.verdict);
    expect(health.snapshot('a').coolingUntilMs).toBe(clock.now() + 3_000);
    expect(call.spent.has('a')).toBe(false);
  });

  it('holds the first answer to return if nobody serves (a 404 for a missing deployment)', () => {
    const { ctx, call } = setUp();
    const first = { status: 404 } as BackendResponse;
    const missing = (response: BackendResponse) =>
      attempt({ phase: 'headers', status: 404, providerError: { code: 'DeploymentNotFound' } }, 20, response);
    const one = missing(first);
    settleFailure(ctx, call, backend, one.finished, one.verdict);
    const two = missing({ status: 404 } as BackendResponse);
    settleFailure(ctx, call, backend, two.finished, two.verdict);
    expect(call.held).toEqual({ response: first, backend, index: 0 });
  });

  it("ends the call on a fatal verdict, releasing the backend's trial without counting it", () => {
    const { ctx, call, health } = setUp();
    const gone = attempt({ phase: 'sent', errorKind: 'caller-aborted' });
    let thrown: unknown;
    try {
      settleFailure(ctx, call, backend, gone.finished, gone.verdict);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe('GW_ERR_REQUEST_CLIENT_CLOSED');
    expect(call.attempts.map((a) => [a.error, a.outcome])).toEqual([['caller-aborted', 'fatal']]);
    expect(health.snapshot('a').state).toBe('closed');
  });
});

describe('serve', () => {
  it("records the backend's success and hands the call's totals to the response stage", () => {
    const { ctx, call, health } = setUp();
    call.waitedMs = 30;
    call.retryWaitMs = 7;
    const response = { status: 200 } as BackendResponse;
    const ok: AttemptResult = { ...attempt({ phase: 'headers', status: 200 }, 30).finished, response };
    const served = serve(ctx, call, backend, ok, undefined);
    expect(served).toMatchObject({ response, backend, backendWaitMs: 30, retryWaitMs: 7, idleTimeoutMs: 1_000 });
    expect(served.attempts.map((a) => a.outcome)).toEqual(['served']);
    expect(health.snapshot('a').latencyEwmaMs).toBe(30);
  });
});
