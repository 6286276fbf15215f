import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse } from '../../ports/backend-transport.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import type { QuotaReservation } from '../governance/quota-guard.js';
import { createBackgroundWrites } from '../resilience/background-writes.js';
import type { Lease } from '../scheduling/scheduler-types.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { BodyBudget } from './body-budget.js';
import type { CallSummary } from './call-summary.js';
import { PrefillRefusals } from './recover.js';
import { runCall, type StageDeps } from './run-call.js';
import {
  callOf,
  gatewayRequest,
  liveContext,
  readText,
  scriptedDispatcher,
  snapshotOf,
} from './test-support/pipeline-fixtures.js';

const result = validateConfig({
  backends: [{ id: 'a', url: 'http://a.test', kind: 'openai' }],
  pools: [{ id: 'p', backends: ['a'] }],
  routes: [{ id: 'r', match: { models: ['gpt-4o'] }, pool: 'p' }],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const config = result.config;

function served(events: string[]): DispatchResult {
  const text = JSON.stringify({ id: 'c1', usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
  const response: BackendResponse = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: (async function* () {
      yield new TextEncoder().encode(text);
    })(),
    errorKind: () => 'other',
    dump: async () => undefined,
  };
  return {
    response,
    backend: { id: 'a', group: 'default' } as BackendConfig,
    attempts: [{ backend: 'a', group: 'default', status: 200, error: undefined, durationMs: 5, outcome: 'served' }],
    backendWaitMs: 5,
    retryWaitMs: 0,
    abort: () => events.push('abort'),
    release: () => events.push('dispatch-release'),
    idleTimeoutMs: 60_000,
  };
}

/** The stages' deps over fakes that log what each stage did, in order. */
function setUp() {
  const clock = new FakeClock();
  const events: string[] = [];
  const recorded: CallSummary[] = [];
  const dispatcher = scriptedDispatcher(async () => served(events));
  const reservation: QuotaReservation = {
    reservedTokens: 10,
    settle: async (tokens) => (events.push(`quota-settle:${tokens}`), tokens - 10),
    release: async () => void events.push('quota-release'),
  } as QuotaReservation;
  // Background writes, each kept so that a test can wait for them (the quota settles off the response path).
  const inner = createBackgroundWrites();
  const pending: Promise<boolean>[] = [];
  const writes: StageDeps['writes'] = {
    run: (kind, write, options) => {
      const done = inner.run(kind, write, options);
      pending.push(done);
      return done;
    },
    failed: (kind, error, context) => inner.failed(kind, error, context),
    counts: () => inner.counts(),
  };
  const deps: StageDeps = {
    clock,
    admission: {
      authorizeTarget: () => void events.push('authorize'),
      reserveTokens: async () => (events.push('reserve'), reservation),
    },
    affinity: { get: async () => undefined, set: async () => {}, claimOnce: async () => true },
    gate: {
      acquire: async (request) => (events.push(`lease:${request.poolId}`), { leaseId: 'l1' } as Lease),
      release: () => void events.push('lease-release'),
    },
    health: { usableCount: (ids) => ids.length, snapshot: () => undefined!, earliestReopenMs: () => 0 },
    writes,
    recorder: {
      record: (summary) => void recorded.push(summary),
      recordLater: (summary) => void recorded.push(summary),
    },
    bodies: new BodyBudget(() => 1_000_000),
    prefillRefusals: new PrefillRefusals(),
  };
  return { clock, deps, events, recorded, pending, s: snapshotOf(config, dispatcher), dispatcher };
}

const chat = (model: string) =>
  gatewayRequest({ body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

describe('runCall', () => {
  it('routes, reserves, leases and dispatches a live call, then settles and records it as its body ends', async () => {
    const { clock, deps, events, recorded, pending, s, dispatcher } = setUp();
    const call = callOf(chat('gpt-4o'), clock);
    const answer = await runCall(deps, s, call, liveContext());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-gateway-backend')).toBe('a');
    expect(dispatcher.inputs).toHaveLength(1);
    expect(events).toEqual(['authorize', 'reserve', 'lease:p']);
    expect(deps.bodies.heldBytes).toBeGreaterThan(0);
    expect(recorded).toEqual([]);

    expect(JSON.parse(await readText(answer.body))).toMatchObject({ id: 'c1' });
    await Promise.all(pending);
    expect(pending).toHaveLength(1);
    expect(events).toEqual(expect.arrayContaining(['dispatch-release', 'lease-release', 'quota-settle:7']));
    expect(deps.bodies.heldBytes).toBe(0);
    expect(recorded).toEqual([call.summary]);
    expect(call.summary.usage?.totalTokens).toBe(7);
  });

  it('gives back what the call holds when a stage throws, and throws the stage error on', async () => {
    const { clock, deps, events, recorded, s, dispatcher } = setUp();
    const call = callOf(chat('no-such-model'), clock);
    await expect(runCall(deps, s, call, liveContext())).rejects.toMatchObject({
      code: 'GW_ERR_REQUEST_MODEL_NOT_FOUND',
    });
    expect(dispatcher.inputs).toEqual([]);
    expect(events).toEqual([]);
    expect(deps.bodies.heldBytes).toBe(0);
    expect(recorded).toEqual([]);
  });
});
