import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { MemoryBackendHealthStore } from '../../adapters/memory/memory-backend-health-store.js';
import { createMemoryUsageLedger } from '../../adapters/memory/memory-usage-ledger.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { startCall, type CallSummary } from '../pipeline/call-summary.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../resilience/circuit-breaker.js';
import { HealthTracker } from '../resilience/health-tracker.js';
import type { Lease, SchedulerStats } from '../scheduling/scheduler-types.js';
import { finaliseUsageReading } from '../usage/usage-reading.js';
import { createUsageRecord } from '../usage/usage-record.js';
import { LedgerToday } from './ledger-today.js';
import { RollingSums } from './rolling-sums.js';
import { StatusBoard, type StatusSources } from './status-board.js';

function config(): GatewayConfig {
  const result = validateConfig({
    backends: [
      { id: 'ptu-east', url: 'https://user:secret@ptu.example/', group: 'ptu', maxConcurrency: 8 },
      { id: 'payg-west', url: 'https://payg.example/', group: 'payg', weight: 2 },
    ],
    pools: [{ id: 'gpt', backends: ['ptu-east', 'payg-west'], groupOrder: ['ptu', 'payg'] }],
    routes: [{ id: 'chat', match: { models: ['*'] }, pool: 'gpt' }],
    governance: { identity: { anonymous: { allowed: true } } },
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

function summary(clock: FakeClock, over: Partial<CallSummary>): CallSummary {
  const call = startCall(
    {
      method: 'POST',
      url: 'http://gw/v1/chat/completions',
      headers: new Headers(),
      body: null,
      signal: new AbortController().signal,
    },
    clock,
  );
  return { ...call.summary, status: 200, outcome: 'complete', routeId: 'chat', ...over };
}

const lease = (poolId: string): Lease =>
  ({
    leaseId: 'l',
    requestId: 'r',
    poolId,
    groupId: 'ptu',
    userId: 'u',
    level: 1,
    effectiveLevel: 1,
    reason: 'free',
    waitedMs: 0,
    grantedAtMs: 0,
    expiresAtMs: 0,
  }) as Lease;

function harness() {
  const clock = new FakeClock(Date.parse('2026-12-07T10:00:00Z'));
  const cfg = config();
  const health = new HealthTracker(
    { store: new MemoryBackendHealthStore(), clock, onError: () => undefined },
    {
      breaker: { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, failureThreshold: 2, minimumRequests: 2 },
    },
  );
  const board = new StatusBoard({ clock, config: () => cfg, configSource: 'gateway.config.json', instance: 'test:1' });
  const scheduler: SchedulerStats = {
    atMs: clock.now(),
    pools: [
      {
        poolId: 'gpt',
        groups: [
          { groupId: 'ptu', capacity: 8, inUse: 3 },
          { groupId: 'payg', capacity: 100, inUse: 0 },
        ],
        levels: [{ level: 1, waiting: 2, oldestWaitMs: 1500, leases: 3, reservedSlots: 0, maxQueueDepth: 100 }],
        leases: 3,
        waiting: 2,
        averageLeaseMs: 100,
      },
    ],
    totals: {
      enqueued: 0,
      grants: 0,
      rejections: 0,
      expiredWaiting: 0,
      expiredLeases: 0,
      cancellations: 0,
      releases: 0,
      priorityInversions: 0,
    },
  };
  const sources: StatusSources = {
    health,
    scheduler: () => scheduler,
    inFlight: (id) => (id === 'ptu-east' ? 3 : 0),
    exports: () => [],
  };
  return { clock, health, board, sources };
}

describe('StatusBoard', () => {
  it('shows each backend with its last minute: attempts, error rate, latency, last error code — and no URL', () => {
    const { clock, board, sources } = harness();
    board.recordCall(
      summary(clock, {
        attempts: [
          { backend: 'ptu-east', group: 'ptu', status: 503, error: undefined, durationMs: 40, outcome: 'failover' },
          { backend: 'payg-west', group: 'payg', status: 200, error: undefined, durationMs: 300, outcome: 'served' },
        ],
      }),
    );
    board.recordCall(
      summary(clock, {
        attempts: [
          { backend: 'payg-west', group: 'payg', status: 200, error: undefined, durationMs: 500, outcome: 'served' },
        ],
      }),
    );
    const view = board.view(sources);
    const [ptu, payg] = view.backends;
    expect(ptu).toMatchObject({ id: 'ptu-east', group: 'ptu', maxConcurrency: 8, inFlight: 3, state: 'closed' });
    expect(ptu?.lastMinute).toMatchObject({
      attempts: 1,
      errors: 1,
      errorRate: 1,
      latencyMs: null,
      lastError: { code: '503' },
    });
    expect(payg?.lastMinute).toMatchObject({ attempts: 2, errors: 0, latencyMs: 400, maxLatencyMs: 500 });
    expect(JSON.stringify(view)).not.toContain('secret');
    expect(JSON.stringify(view)).not.toContain('example');
    clock.advance(61_000);
    expect(board.view(sources).backends[1]?.lastMinute.attempts).toBe(0);
  });

  it('shows each pool with capacity, in flight, queue, grants per second and rejections by reason', () => {
    const { clock, board, sources } = harness();
    for (let i = 0; i < 20; i++) board.recordGrant(lease('gpt'));
    board.recordCall(summary(clock, { status: 429, outcome: 'rejected', errorCode: 'GW_ERR_QUEUE_FULL' }));
    board.recordCall(summary(clock, { status: 429, outcome: 'rejected', errorCode: 'GW_ERR_QUOTA_EXCEEDED' }));
    board.recordCall(summary(clock, { status: 429, outcome: 'rejected', errorCode: 'GW_ERR_QUOTA_EXCEEDED' }));
    board.recordCall(summary(clock, { status: 408, outcome: 'rejected', errorCode: 'GW_ERR_REQUEST_TTL_EXPIRED' }));
    const [pool] = board.view(sources).pools;
    expect(pool).toMatchObject({ id: 'gpt', capacity: 108, inFlight: 3, queued: 2, oldestWaitMs: 1500 });
    expect(pool?.activity.grantsPerSec).toBe(2);
    expect(pool?.activity.rejectedLastMinute).toEqual({ queue_full: 1, quota: 2, ttl: 1 });
  });

  it('charts the last hour of tokens by model and caller, and counts errors by code', () => {
    const { clock, board, sources } = harness();
    const tokens = (n: number, model: string) =>
      finaliseUsageReading({ promptTokens: n, completionTokens: 0, totalTokens: n }, model);
    board.recordCall(summary(clock, { caller: { userId: 'alice' } as never, usage: tokens(100, 'gpt-4o') }));
    clock.advance(120_000);
    board.recordCall(summary(clock, { caller: { userId: 'bob' } as never, usage: tokens(40, 'gpt-4o-mini') }));
    board.recordCall(summary(clock, { status: 503, outcome: 'failed', errorCode: 'GW_ERR_BACKEND_ALL_OPEN' }));
    const view = board.view(sources);
    expect(view.tokens.byModel.map((s) => [s.key, s.total])).toEqual([
      ['gpt-4o', 100],
      ['gpt-4o-mini', 40],
    ]);
    expect(view.tokens.byCaller.map((s) => s.key)).toEqual(['alice', 'bob']);
    expect(view.tokens.totalPerMinute).toHaveLength(60);
    expect(view.tokens.totalPerMinute.slice(-3)).toEqual([100, 0, 40]);
    expect(view.errors).toEqual([
      expect.objectContaining({ code: 'GW_ERR_BACKEND_ALL_OPEN', lastMinute: 1, lastStatus: 503 }),
    ]);
    expect(view.pulse).toMatchObject({ errors: 1 });
  });

  it('reports breaker transitions once each, and the config source, version and last reload', () => {
    const { clock, health, board, sources } = harness();
    board.observeHealth(health);
    const seen: string[] = [];
    board.breakers.onTransition((t) => seen.push(`${t.backendId} ${t.from}->${t.to}`));
    for (let i = 0; i < 3; i++) {
      health.tryAcquire('ptu-east');
      health.recordFailure('ptu-east', { countsAsBreakerFailure: true });
    }
    board.observeHealth(health);
    board.observeHealth(health);
    clock.advance(31_000);
    board.observeHealth(health);
    expect(seen).toEqual(['ptu-east closed->open', 'ptu-east open->half-open']);
    board.configReloaded({
      ok: false,
      source: 'gateway.config.json',
      issues: ['routes[0].pool: unknown pool "x"'],
      atMs: clock.now(),
    });
    const view = board.view(sources);
    expect(view.config).toMatchObject({
      source: 'gateway.config.json',
      reloadsRefused: 1,
      lastReload: { ok: false, issues: ['routes[0].pool: unknown pool "x"'] },
    });
    expect(view.config.version).toMatch(/^[0-9a-f]{12}$/);
    expect(view.transitions.map((t) => t.to)).toEqual(['open', 'half-open']);
  });
});

describe('LedgerToday', () => {
  it("sums today's records by caller and model from the ledger, cached until stale", async () => {
    const clock = new FakeClock(Date.parse('2026-12-07T10:00:00Z'));
    const ledger = createMemoryUsageLedger();
    const add = (at: string, user: string, model: string, n: number) =>
      ledger.append(
        createUsageRecord(
          {
            requestId: `${at}${user}`,
            httpStatus: 200,
            outcome: 'complete',
            caller: { userId: user },
            tokens: finaliseUsageReading({ promptTokens: n, completionTokens: 0, totalTokens: n }, model),
          },
          new FakeClock(Date.parse(at)),
        ),
      );
    await add('2026-12-06T23:59:59Z', 'yesterday', 'gpt-4o', 999);
    await add('2026-12-07T08:00:00Z', 'alice', 'gpt-4o', 100);
    await add('2026-12-07T09:00:00Z', 'bob', 'gpt-4o-mini', 300);
    const today = new LedgerToday({ ledger, clock, pricing: () => ({ prices: {}, currency: 'USD' }) });
    expect(today.view().today).toBeNull();
    await today.refresh();
    const view = today.view().today!;
    expect(view.byCaller.map((r) => [r.key, r.totalTokens])).toEqual([
      ['bob', 300],
      ['alice', 100],
    ]);
    expect(view.byModel.map((r) => r.key)).toEqual(['gpt-4o-mini', 'gpt-4o']);
    expect(view.total.totalTokens).toBe(400);
    await add('2026-12-07T09:30:00Z', 'carol', 'gpt-4o', 1);
    expect(today.view().today?.total.totalTokens).toBe(400);
  });
});

describe('RollingSums', () => {
  it('sums a sliding window of buckets and forgets what falls out of it', () => {
    const sums = new RollingSums(1_000, 5);
    sums.add(10_000, 1);
    sums.add(10_500, 2);
    sums.add(13_000, 4);
    expect(sums.sum(13_999)).toBe(7);
    expect(sums.series(13_999)).toEqual([0, 3, 0, 0, 4]);
    expect(sums.sum(15_000)).toBe(4);
    expect(sums.sum(13_999, 1_000)).toBe(4);
    sums.add(8_000, 100); // older than the bucket now in its slot: ignored
    expect(sums.sum(13_999)).toBe(7);
  });
});
