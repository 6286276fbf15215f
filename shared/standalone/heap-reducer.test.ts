import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { SchedulerStats } from '../core/scheduling/scheduler-types.js';
import { HeapReducer, memoryReducingGc } from './heap-reducer.js';

const MiB = 1024 * 1024;

/** A scheduler picture with `leases` held and `waiting` queued in one pool, `enqueued` calls since start. */
function stats(enqueued: number, leases = 0, waiting = 0): SchedulerStats {
  const totals = {
    enqueued,
    grants: enqueued,
    rejections: 0,
    expiredWaiting: 0,
    expiredLeases: 0,
    cancellations: 0,
    releases: enqueued - leases,
    priorityInversions: 0,
  };
  const pool = { poolId: 'main', groups: [], levels: [], leases, waiting, averageLeaseMs: undefined };
  return { atMs: 0, pools: [pool], totals };
}

/** A reducer over a fake world: the test sets what the scheduler, the heap and the loop show before each tick. */
function world() {
  const now = { stats: stats(0), held: 20 * MiB, loop: 0 };
  let reductions = 0;
  const reducer = new HeapReducer({
    reduce: () => {
      reductions += 1;
      now.held = 22 * MiB;
    },
    scheduler: () => now.stats,
    heldBytes: () => now.held,
    loopBusy: () => now.loop,
  });
  return { now, reducer, reductions: () => reductions };
}

describe('HeapReducer', () => {
  it('reduces once a burst is over: after a whole quiet interval, when the heap grew by 32 MiB or more', () => {
    const { now, reducer, reductions } = world();
    now.stats = stats(500, 200, 40);
    now.held = 120 * MiB;
    reducer.tick(); // the burst
    now.stats = stats(900, 0, 0);
    reducer.tick(); // calls admitted since the last look: not quiet yet
    expect(reductions()).toBe(0);
    reducer.tick(); // a first quiet look: the interval before it was not quiet all through
    expect(reductions()).toBe(0);
    reducer.tick();
    expect(reductions()).toBe(1);
    reducer.tick(); // given back: the base is the size after the reduction
    reducer.tick();
    expect(reductions()).toBe(1);
  });

  it('never reduces while a call holds capacity or waits for it, however long nothing new arrives', () => {
    const { now, reducer, reductions } = world();
    now.held = 200 * MiB;
    now.stats = stats(10, 1, 0); // one long stream open
    for (let i = 0; i < 10; i++) reducer.tick();
    now.stats = stats(10, 0, 1); // one call waiting
    for (let i = 0; i < 10; i++) reducer.tick();
    expect(reductions()).toBe(0);
  });

  it('does not reduce while the event loop is busy, the scheduler idle (calls refused before routing)', () => {
    const { now, reducer, reductions } = world();
    now.held = 200 * MiB;
    now.loop = 0.4;
    for (let i = 0; i < 10; i++) reducer.tick();
    expect(reductions()).toBe(0);
    now.loop = 0.01;
    reducer.tick();
    reducer.tick();
    expect(reductions()).toBe(1);
  });

  it('leaves a heap alone that grew less than the threshold since the last reduction', () => {
    const { now, reducer, reductions } = world();
    now.held = 51 * MiB; // base 20 MiB + 31 MiB
    for (let i = 0; i < 10; i++) reducer.tick();
    expect(reductions()).toBe(0);
    now.held = 52 * MiB;
    reducer.tick();
    expect(reductions()).toBe(1);
  });

  it('measures the loop since its previous look, busy or not: a burst does not count against the quiet after', () => {
    // The loop's busy time accumulates per interval; a look reads the share since the look before (as Node's
    // eventLoopUtilization does), so a look skipped during the burst would average the burst into the quiet.
    const loop = { busy: 0, elapsed: 0, seenBusy: 0, seenElapsed: 0 };
    const interval = (busyShare: number) => ((loop.busy += busyShare), (loop.elapsed += 1));
    let reductions = 0;
    let current = stats(0);
    let held = 20 * MiB;
    const reducer = new HeapReducer({
      reduce: () => (reductions += 1),
      scheduler: () => current,
      heldBytes: () => held,
      loopBusy: () => {
        const share = (loop.busy - loop.seenBusy) / Math.max(1, loop.elapsed - loop.seenElapsed);
        [loop.seenBusy, loop.seenElapsed] = [loop.busy, loop.elapsed];
        return share;
      },
    });
    held = 200 * MiB;
    interval(1);
    current = stats(400);
    reducer.tick(); // burst
    interval(1);
    current = stats(800);
    reducer.tick(); // burst, its last calls admitted
    interval(0);
    reducer.tick(); // the first whole quiet interval
    interval(0);
    reducer.tick(); // the second: reduce
    expect(reductions).toBe(1);
  });

  it('never reduces while a call is in flight outside the scheduler (a Retry-After wait, a body read)', () => {
    let inFlight = 1;
    let reductions = 0;
    let held = 20 * MiB;
    const reducer = new HeapReducer({
      reduce: () => (reductions += 1),
      scheduler: () => stats(5),
      heldBytes: () => held,
      loopBusy: () => 0,
      inFlight: () => inFlight,
    });
    held = 200 * MiB;
    for (let i = 0; i < 10; i++) reducer.tick();
    expect(reductions).toBe(0);
    inFlight = 0;
    reducer.tick();
    reducer.tick();
    expect(reductions).toBe(1);
  });

  it('reduceNow runs at once (the host calls it before it listens) and counts it', () => {
    const { reducer, reductions } = world();
    reducer.reduceNow();
    expect(reductions()).toBe(1);
    expect(reducer.reductions).toBe(1);
  });
});

const v8Major = Number(process.versions.v8.split('.')[0]);

describe('memoryReducingGc', () => {
  it.runIf(v8Major >= 12)('shrinks the grown young generation back, without exposing gc to other code', () => {
    const exposedBefore = typeof (globalThis as { gc?: unknown }).gc;
    const reduce = memoryReducingGc();
    expect(reduce).toBeTypeOf('function');
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
    let survivors: object[] | undefined = [];
    for (let i = 0; i < 300_000; i++) survivors.push({ i, s: `x${i}` });
    const grown = newSpace();
    expect(grown).toBeGreaterThan(2 * MiB);
    survivors = undefined;
    reduce!();
    expect(newSpace()).toBeLessThan(grown);
    expect(newSpace()).toBeLessThanOrEqual(2 * MiB);
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(exposedBefore);
    if (exposedBefore !== 'function') expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it.runIf(v8Major < 12)('is not offered where V8 cannot reduce memory on request (Node 20)', () => {
    expect(memoryReducingGc()).toBeUndefined();
  });
});
