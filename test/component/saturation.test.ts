import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerStats } from '../../shared/core/scheduling/scheduler-types.js';
import type { FaultHarness } from '../../simulator/faults/fault-harness.js';
import {
  KEYS,
  POOL_ID,
  etlCaller,
  observe,
  searchCaller,
  sendInOrder,
  startSaturationGateway,
} from '../../simulator/saturation/saturation-gateway.js';
import {
  DEFAULT_AGING,
  DEFAULT_PRIORITY,
  agingChecks,
  agingGrantWindow,
  fairShareExcess,
  lessUrgentGrantsWhileWaiting,
  outOfOrderPairs,
  priorityChecks,
  runAgingScenario,
  runPriorityScenario,
  type AgingScenarioResult,
  type ScenarioResult,
} from '../../simulator/saturation/saturation-scenarios.js';

// The same scenarios `node dist/simulator/saturation/main.js` runs and prints (docs/scheduling.md, "Saturation proof").
// Verdicts are read off grant order (the scheduler numbers leases as it grants them) and the gateway's clock,
// never off elapsed wall time: a loaded machine makes the run slower, not different.

describe('priority scheduling under saturation, through HTTP and the engine', () => {
  // Capacity 4, each call holds its lease 300 ms: 16 level-3 calls of user etl, 10 of other users, then 6 level-1
  // calls.
  let run: ScenarioResult;
  const o = DEFAULT_PRIORITY;
  beforeAll(async () => {
    run = await runPriorityScenario(o);
  }, 60_000);

  const high = (): ScenarioResult['calls'] => run.calls.filter((c) => c.expectedLevel === 1);
  const low = (): ScenarioResult['calls'] => run.calls.filter((c) => c.expectedLevel === 3);

  it('answers every call and gives each caller the level of its tier or priority key', () => {
    expect(run.calls.map((c) => c.status)).toEqual(run.calls.map(() => 200));
    expect(run.calls.filter((c) => c.level !== c.expectedLevel).map((c) => `${c.label}: ${c.level}`)).toEqual([]);
    // Every call waited in the scheduler except the first four (the pool's capacity).
    expect(run.calls.filter((c) => c.queueWaitMs > 0).length).toBeGreaterThanOrEqual(run.calls.length - o.capacity);
    expect(run.calls.every((c) => c.grant?.group === 'default')).toBe(true);
  });

  it('grants a level-1 call at the next freed lease, before any waiting level-3 call', () => {
    for (const call of high())
      expect(
        lessUrgentGrantsWhileWaiting(run.calls, call).map((c) => c.label),
        `passed over ${call.label}`,
      ).toEqual([]);
    // Whatever the level-3 backlog, a level-1 call that arrived while level-3 calls waited went first.
    for (const call of high()) {
      const waitingLow = low().filter((c) => c.arrival < call.arrival && c.grantNo > call.grantNo);
      const grantedLow = low().filter((c) => c.grantNo < call.grantNo);
      expect(waitingLow.length + grantedLow.length, call.label).toBe(low().length);
    }
    expect(low().filter((c) => c.grantNo > Math.max(...high().map((h) => h.grantNo))).length).toBeGreaterThan(0);
  });

  it('serves same-level calls in arrival order: per user, and across users within their share', () => {
    const etl = low().filter((c) => c.userId === 'etl');
    const others = low().filter((c) => c.userId !== 'etl');
    const label = (pairs: ReturnType<typeof outOfOrderPairs>): string[] =>
      pairs.map(([a, b]) => `${b.label} before ${a.label}`);
    expect(label(outOfOrderPairs(etl))).toEqual([]);
    expect(label(outOfOrderPairs(others))).toEqual([]);
    expect(label(outOfOrderPairs(high().filter((c) => c.userId === 'search')))).toEqual([]);
  });

  it('keeps a greedy user to its share: other users overtake its backlog instead of waiting behind it', () => {
    const rows = fairShareExcess(run.calls, o);
    expect(rows.length).toBe(o.otherUsers);
    // Under plain FIFO the first other user would watch all 12 queued etl calls go first.
    expect(rows.filter((r) => r.excess > 0)).toEqual([]);
    expect(rows[0]!.greedyGrantsWhileWaiting).toBeLessThanOrEqual(o.capacity);
    const etl = low().filter((c) => c.userId === 'etl');
    const overtaken = etl.filter((e) =>
      low().some((c) => c.userId !== 'etl' && c.arrival > e.arrival && c.grantNo < e.grantNo),
    );
    expect(overtaken.length).toBeGreaterThan(0);
  });

  it('serves every level-3 call at its own level (aging does not act in this run) and records no inversion', () => {
    for (const c of low()) {
      expect(c.status, c.label).toBe(200);
      expect(c.lease?.effectiveLevel, c.label).toBe(3);
      expect(c.grant?.reason, c.label).not.toBe('aged');
    }
    expect(run.totals.priorityInversions).toBe(0);
    expect(run.totals).toMatchObject({
      enqueued: run.calls.length,
      grants: run.calls.length,
      releases: run.calls.length,
      rejections: 0,
      expiredWaiting: 0,
      expiredLeases: 0,
    });
  });

  it('passes every check the saturation script prints', () => {
    expect(priorityChecks(run).filter((c) => !c.pass)).toEqual([]);
  });
});

describe('aging under a steady level-1 load above capacity', () => {
  // Capacity 4, 150 ms leases, 12 level-1 callers in a closed loop; 3 level-3 calls; aging step 30 s. The
  // gateway's clock moves two steps while the level-3 calls wait; the loop runs until they are answered.
  let run: AgingScenarioResult;
  const o = DEFAULT_AGING;
  // The loop runs until the aged calls are answered: on a loaded machine that takes longer, so the hook's
  // bound is only a stall guard.
  beforeAll(async () => {
    run = await runAgingScenario(o);
  }, 180_000);

  it('keeps level-3 calls waiting behind the level-1 load, then serves them once aged to level 1', () => {
    expect(run.beforeAging.level3Waiting).toBe(o.lowCalls);
    expect(run.beforeAging.level1Waiting).toBeGreaterThan(0);
    const low = run.calls.filter((c) => c.expectedLevel === 3);
    expect(low).toHaveLength(o.lowCalls);
    for (const c of low) {
      expect(c.status).toBe(200);
      expect(c.lease?.effectiveLevel, c.label).toBe(1);
      expect(c.grant?.reason, c.label).toBe('aged');
      expect(c.queueWaitMs, c.label).toBeGreaterThanOrEqual(2 * o.agingStepMs);
    }
  });

  it('grants each aged call among the leases freed next, while the level-1 load still runs', () => {
    // The documented bound ⌈(N + 1) / C⌉ lease rounds once it competes at level 1, counted in leases: only
    // level-1 calls already waiting when the clock moved can go first.
    const window = agingGrantWindow(run);
    const low = run.calls.filter((c) => c.expectedLevel === 3);
    const loopGrants = run.calls.filter((c) => c.expectedLevel === 1).map((c) => c.grantNo);
    for (const c of low) {
      expect(c.grantNo, c.label).toBeGreaterThanOrEqual(window.first);
      expect(c.grantNo, c.label).toBeLessThanOrEqual(window.last);
      // Without aging they would wait until the level-1 loop stops.
      expect(loopGrants.some((g) => g > c.grantNo)).toBe(true);
    }
  });

  it('keeps the level-1 load served and records no priority inversion', () => {
    expect(run.calls.every((c) => c.status === 200)).toBe(true);
    expect(run.calls.filter((c) => c.expectedLevel === 1).length).toBeGreaterThan(o.highWorkers);
    expect(run.totals.priorityInversions).toBe(0);
    expect(agingChecks(run).filter((c) => !c.pass)).toEqual([]);
  });
});

describe('scheduler state on GET /gateway/admin/status during saturation', () => {
  let h: FaultHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const status = async (
    gateway: FaultHarness,
    adminKey: string = KEYS.admin,
  ): Promise<{ http: number; scheduler: SchedulerStats | undefined }> => {
    const response = await fetch(`${gateway.url}/gateway/admin/status`, {
      headers: { 'x-gateway-admin-key': adminKey, 'x-userprofile': 'standard', 'x-userid': 'operator' },
    });
    const body = (await response.json()) as { scheduler?: SchedulerStats };
    return { http: response.status, scheduler: body.scheduler };
  };

  it('shows levels, waiting counts, oldest wait per level and leases per pool', async () => {
    const capacity = 4;
    h = await startSaturationGateway({
      capacity,
      latencyMs: 20,
      scheduling: { levels: 3, defaultLevel: 2, agingStepMs: 600_000, userShareRatio: 0.5, maxQueueDepth: 100 },
    });
    const gateway = h;
    const sim = gateway.sims.a!;
    // The backend holds every call until released: the pool stays saturated while the test looks, however
    // slow the machine.
    const releaseFirst = sim.hold();
    const sendStartedAt = gateway.clock.now();
    // 8 level-3 calls (4 take the pool, 4 wait), then 2 level-1 calls (wait).
    const sent = await sendInOrder(
      gateway,
      [...Array.from({ length: 8 }, (_, i) => etlCaller(i + 1)), searchCaller(1), searchCaller(2)],
      0,
    );

    expect((await status(gateway, 'sk-wrong-admin-key')).http).toBe(401);
    const saturated = await status(gateway);
    expect(saturated.http).toBe(200);
    const pool = saturated.scheduler?.pools.find((p) => p.poolId === POOL_ID);
    expect(pool?.groups).toEqual([{ groupId: 'default', capacity, inUse: capacity }]);
    expect(pool?.leases).toBe(capacity);
    expect(pool?.waiting).toBe(6);
    expect(pool?.levels.map((l) => ({ level: l.level, waiting: l.waiting, leases: l.leases }))).toEqual([
      { level: 1, waiting: 2, leases: 0 },
      { level: 2, waiting: 0, leases: 0 },
      { level: 3, waiting: 4, leases: 4 },
    ]);
    const [l1, , l3] = pool!.levels;
    expect(l3!.oldestWaitMs).toBeGreaterThanOrEqual(l1!.oldestWaitMs);
    expect(l3!.oldestWaitMs).toBeLessThanOrEqual(gateway.clock.now() - sendStartedAt);

    // The four held calls end; the freed slots go to both level-1 calls first, then to two level-3 calls
    // (held in their turn). The gateway's clock moves 10 s meanwhile: the oldest waits grow with it.
    const releaseSecond = sim.hold();
    gateway.clock.advance(10_000);
    releaseFirst();
    await sim.waitForAttempts(capacity + 4);
    const after = (await status(gateway)).scheduler?.pools.find((p) => p.poolId === POOL_ID);
    expect(after?.levels.map((l) => ({ level: l.level, waiting: l.waiting, leases: l.leases }))).toEqual([
      { level: 1, waiting: 0, leases: 2 },
      { level: 2, waiting: 0, leases: 0 },
      { level: 3, waiting: 2, leases: 2 },
    ]);
    expect(after!.levels[2]!.oldestWaitMs).toBeGreaterThanOrEqual(10_000);
    releaseSecond();

    const calls = await observe(gateway, sent);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const drained = await status(gateway);
    const end = drained.scheduler?.pools.find((p) => p.poolId === POOL_ID);
    expect(end?.levels.map((l) => [l.waiting, l.leases, l.oldestWaitMs])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(drained.scheduler?.totals).toMatchObject({ enqueued: 10, grants: 10, releases: 10, priorityInversions: 0 });
  }, 30_000);
});
