import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { PriorityScheduler } from './priority-scheduler.js';
import type { SchedulerOptions } from './scheduler-options.js';
import type { EnqueueResult, Lease, ScheduleRequest, SchedulerSnapshot } from './scheduler-types.js';

const T0 = 1_700_000_000_000;

function setup(
  options: SchedulerOptions = {},
  groups: Array<{ groupId: string; capacity: number }> = [{ groupId: 'ptu', capacity: 1 }],
) {
  const clock = new FakeClock(T0);
  const scheduler = new PriorityScheduler({ clock, options: { agingStepMs: 0, ...options } });
  scheduler.setCapacity('p', groups);
  const request = (requestId: string, over: Partial<ScheduleRequest> = {}): ScheduleRequest => ({
    requestId,
    poolId: 'p',
    priority: 2,
    userId: 'u',
    deadlineMs: clock.now() + 600_000,
    ...over,
  });
  const lease = (result: EnqueueResult): Lease => {
    if (result.kind !== 'granted') throw new Error(`expected a grant, got ${result.kind}`);
    return result.lease;
  };
  return { clock, scheduler, request, lease };
}

const ids = (grants: readonly Lease[]): string[] => grants.map((g) => g.requestId);

describe('PriorityScheduler', () => {
  it('grants at once when capacity is free and records group, reason and lease expiry', () => {
    const { scheduler, request, lease } = setup({ leaseTtlMs: 90_000 });
    const granted = lease(scheduler.enqueue(request('a')));
    expect(granted).toMatchObject({
      requestId: 'a',
      poolId: 'p',
      groupId: 'ptu',
      reason: 'free',
      level: 2,
      effectiveLevel: 2,
      waitedMs: 0,
      grantedAtMs: T0,
      expiresAtMs: T0 + 90_000,
    });
    expect(scheduler.enqueue(request('b'))).toMatchObject({ kind: 'queued', position: 1 });
  });

  it('serves one level first in, first out', () => {
    const { scheduler, request, lease } = setup();
    const first = lease(scheduler.enqueue(request('held')));
    for (const id of ['a', 'b', 'c']) scheduler.enqueue(request(id));
    const order: string[] = [];
    let current = first;
    for (let i = 0; i < 3; i += 1) {
      const { grants } = scheduler.release(current.leaseId);
      expect(grants).toHaveLength(1);
      current = grants[0] as Lease;
      order.push(current.requestId);
    }
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('grants the most urgent waiting request when a lease is released', () => {
    const { scheduler, request, lease } = setup();
    let current = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('batch', { priority: 3 }));
    scheduler.enqueue(request('normal', { priority: 2 }));
    scheduler.enqueue(request('urgent', { priority: 1 }));
    const order: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      current = scheduler.release(current.leaseId).grants[0] as Lease;
      order.push(current.requestId);
    }
    expect(order).toEqual(['urgent', 'normal', 'batch']);
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
  });

  it('keeps reserved slots for their level and marks grants that used them', () => {
    const { scheduler, request, lease } = setup({ perLevel: { '1': { reservedSlots: 2 } } }, [
      { groupId: 'ptu', capacity: 3 },
    ]);
    expect(scheduler.enqueue(request('n1')).kind).toBe('granted');
    expect(scheduler.enqueue(request('n2'))).toMatchObject({ kind: 'queued' });
    const u1 = lease(scheduler.enqueue(request('u1', { priority: 1 })));
    const u2 = lease(scheduler.enqueue(request('u2', { priority: 1 })));
    expect([u1.reason, u2.reason]).toEqual(['reserved', 'reserved']);
    // Level 1 releasing its slot frees a reserved slot: level 2 still may not take it.
    expect(scheduler.release(u1.leaseId).grants).toEqual([]);
    expect(scheduler.isWaiting('n2')).toBe(true);
  });

  it('reserves slots for a less urgent level too, so batch work is never starved by interactive load', () => {
    const { scheduler, request, lease } = setup({ perLevel: { '3': { reservedSlots: 1 } } }, [
      { groupId: 'ptu', capacity: 2 },
    ]);
    expect(scheduler.enqueue(request('i1', { priority: 1 })).kind).toBe('granted');
    expect(scheduler.enqueue(request('i2', { priority: 1 })).kind).toBe('queued');
    expect(lease(scheduler.enqueue(request('b1', { priority: 3 }))).reason).toBe('reserved');
  });

  it('ages a waiting request one level per agingStepMs so that it runs before newer urgent requests', () => {
    const { scheduler, request, clock, lease } = setup({ agingStepMs: 10_000 });
    let current = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('batch', { priority: 3 }));
    clock.advance(5_000);
    scheduler.enqueue(request('u1', { priority: 1 }));
    clock.advance(1_000);
    current = scheduler.release(current.leaseId).grants[0] as Lease;
    expect(current.requestId).toBe('u1');
    clock.advance(9_000);
    scheduler.enqueue(request('u2', { priority: 1 }));
    clock.advance(6_000); // batch has waited 21 s = 2 steps: it now competes at level 1 and is older than u2
    current = scheduler.release(current.leaseId).grants[0] as Lease;
    expect(current).toMatchObject({
      requestId: 'batch',
      level: 3,
      effectiveLevel: 1,
      reason: 'aged',
      waitedMs: 21_000,
    });
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
  });

  it('starves a batch request behind a steady urgent stream when aging is off (contrast)', () => {
    const { scheduler, request, clock, lease } = setup({ agingStepMs: 0 });
    let current = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('batch', { priority: 3 }));
    for (let i = 0; i < 20; i += 1) {
      scheduler.enqueue(request(`u${i}`, { priority: 1 }));
      clock.advance(5_000);
      current = scheduler.release(current.leaseId).grants[0] as Lease;
      expect(current.requestId).toBe(`u${i}`);
    }
    expect(scheduler.isWaiting('batch')).toBe(true);
  });

  it('puts a user above their share behind other users of the same level, and forgets released leases', () => {
    const { scheduler, request, lease } = setup({ userShareRatio: 0.4 }, [{ groupId: 'ptu', capacity: 4 }]);
    // alice once held every slot; all four are released, so her share must go back to zero.
    const old = [1, 2, 3, 4].map((i) => lease(scheduler.enqueue(request(`a-old-${i}`, { userId: 'alice' }))));
    for (const l of old) scheduler.release(l.leaseId);
    const held = [
      lease(scheduler.enqueue(request('b1', { userId: 'bob' }))),
      lease(scheduler.enqueue(request('b2', { userId: 'bob' }))),
      lease(scheduler.enqueue(request('c1', { userId: 'carol' }))),
      lease(scheduler.enqueue(request('c2', { userId: 'carol' }))),
    ];
    scheduler.enqueue(request('b3', { userId: 'bob' }));
    scheduler.enqueue(request('a1', { userId: 'alice' }));
    // bob holds 2 of 4 leases (50 % > 40 %): alice, holding none, goes first although she came later.
    expect(ids(scheduler.release((held[2] as Lease).leaseId).grants)).toEqual(['a1']);
    expect(ids(scheduler.release((held[3] as Lease).leaseId).grants)).toEqual(['b3']);
  });

  it('rejects with GW_ERR_QUEUE_FULL when a level queue is full, retry-after estimated from lease durations', () => {
    const { scheduler, request, clock, lease } = setup({
      perLevel: { '3': { maxQueueDepth: 2 } },
      retryAfterMs: 1_500,
    });
    let current = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('b1', { priority: 3 }));
    scheduler.enqueue(request('b2', { priority: 3 }));
    expect(scheduler.enqueue(request('b3', { priority: 3 }))).toMatchObject({
      kind: 'rejected',
      code: 'GW_ERR_QUEUE_FULL',
      retryAfterMs: 1_500,
    });
    expect(scheduler.enqueue(request('i1', { priority: 1 })).kind).toBe('queued');
    clock.advance(4_000);
    current = scheduler.release(current.leaseId).grants[0] as Lease; // i1 ran; one lease of 4 000 ms observed
    expect(current.requestId).toBe('i1');
    // ahead of a new level-3 request: b1, b2 → 3 rounds of one slot × 4 000 ms
    expect(scheduler.enqueue(request('b4', { priority: 3 }))).toMatchObject({ kind: 'rejected', retryAfterMs: 12_000 });
    expect(scheduler.stats().totals.rejections).toBe(2);
  });

  it('expires a waiting request at its TTL and never grants it afterwards', () => {
    const { scheduler, request, clock, lease } = setup();
    const held = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('w', { deadlineMs: T0 + 5_000 }));
    expect(scheduler.nextWakeAtMs()).toBe(T0 + 5_000);
    clock.advance(4_999);
    expect(scheduler.tick().expired).toEqual([]);
    clock.advance(1);
    expect(scheduler.tick().expired).toEqual([
      { requestId: 'w', poolId: 'p', userId: 'u', level: 2, deadlineMs: T0 + 5_000, waitedMs: 5_000 },
    ]);
    expect(scheduler.release(held.leaseId).grants).toEqual([]);
    expect(scheduler.enqueue(request('late', { deadlineMs: clock.now() }))).toMatchObject({
      kind: 'rejected',
      code: 'GW_ERR_REQUEST_TTL_EXPIRED',
    });
    expect(scheduler.stats().totals.expiredWaiting).toBe(1);
  });

  it('expires due requests on any call, so an expired request is never granted even without tick()', () => {
    const { scheduler, request, clock, lease } = setup();
    const held = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('w', { deadlineMs: T0 + 5_000 }));
    clock.advance(6_000);
    const result = scheduler.release(held.leaseId);
    expect(ids(result.grants)).toEqual([]);
    expect(result.expired.map((e) => e.requestId)).toEqual(['w']);
  });

  it('removes a cancelled request from the queue', () => {
    const { scheduler, request, lease } = setup();
    const held = lease(scheduler.enqueue(request('held')));
    scheduler.enqueue(request('gone'));
    scheduler.enqueue(request('stays'));
    expect(scheduler.cancel('gone').cancelled).toBe(true);
    expect(scheduler.cancel('gone').cancelled).toBe(false);
    expect(ids(scheduler.release(held.leaseId).grants)).toEqual(['stays']);
    expect(scheduler.stats().totals.cancellations).toBe(1);
  });

  it('reclaims a lease that is never released after the lease TTL and grants the next request', () => {
    const { scheduler, request, clock, lease } = setup({ leaseTtlMs: 10_000 });
    const crashed = lease(scheduler.enqueue(request('crashed')));
    scheduler.enqueue(request('next'));
    expect(scheduler.nextWakeAtMs()).toBe(T0 + 10_000);
    clock.advance(10_000);
    const { expiredLeases, grants } = scheduler.tick();
    expect(expiredLeases.map((l) => l.leaseId)).toEqual([crashed.leaseId]);
    expect(ids(grants)).toEqual(['next']);
    // A late release of the reclaimed lease frees nothing twice.
    expect(scheduler.release(crashed.leaseId).released).toBeUndefined();
    expect(scheduler.stats().pools[0]?.groups[0]).toEqual({ groupId: 'ptu', capacity: 1, inUse: 1 });
    expect(scheduler.stats().totals.expiredLeases).toBe(1);
  });

  it('lets interactive levels spill to PAYG at once while batch waits for PTU', () => {
    const { scheduler, request, lease } = setup({ perLevel: { '3': { groups: { ptu: 0 } } } }, [
      { groupId: 'ptu', capacity: 1 },
      { groupId: 'payg', capacity: 2 },
    ]);
    const b1 = lease(scheduler.enqueue(request('b1', { priority: 3 })));
    expect(b1).toMatchObject({ groupId: 'ptu', reason: 'free' });
    expect(scheduler.enqueue(request('b2', { priority: 3 })).kind).toBe('queued');
    expect(lease(scheduler.enqueue(request('i1', { priority: 1 })))).toMatchObject({
      groupId: 'payg',
      reason: 'spill',
    });
    expect(lease(scheduler.enqueue(request('n1', { priority: 2 })))).toMatchObject({
      groupId: 'payg',
      reason: 'spill',
    });
    const next = scheduler.release(b1.leaseId).grants;
    expect(next).toMatchObject([{ requestId: 'b2', groupId: 'ptu' }]);
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
  });

  it('lets batch spill after its configured wait, waking the caller at that moment', () => {
    const { scheduler, request, clock } = setup({ perLevel: { '3': { groups: { ptu: 0, '*': 30_000 } } } }, [
      { groupId: 'ptu', capacity: 0 },
      { groupId: 'payg', capacity: 1 },
    ]);
    expect(scheduler.enqueue(request('b1', { priority: 3 })).kind).toBe('queued');
    expect(scheduler.nextWakeAtMs()).toBe(T0 + 30_000);
    clock.advance(29_999);
    expect(scheduler.tick().grants).toEqual([]);
    clock.advance(1);
    expect(scheduler.tick().grants).toMatchObject([
      { requestId: 'b1', groupId: 'payg', reason: 'spill', waitedMs: 30_000 },
    ]);
  });

  it('honours a request restricted to some groups without blocking others', () => {
    const { scheduler, request, lease } = setup({}, [
      { groupId: 'ptu', capacity: 1 },
      { groupId: 'payg', capacity: 1 },
    ]);
    lease(scheduler.enqueue(request('x', { priority: 3 })));
    expect(scheduler.enqueue(request('ptu-only', { priority: 1, allowedGroups: ['ptu'] })).kind).toBe('queued');
    expect(lease(scheduler.enqueue(request('any', { priority: 3 })))).toMatchObject({ groupId: 'payg' });
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
  });

  it('grants waiting requests in priority order when capacity grows', () => {
    const { scheduler, request } = setup({}, [{ groupId: 'ptu', capacity: 0 }]);
    scheduler.enqueue(request('batch', { priority: 3 }));
    scheduler.enqueue(request('normal-1', { priority: 2 }));
    scheduler.enqueue(request('urgent', { priority: 1 }));
    scheduler.enqueue(request('normal-2', { priority: 2 }));
    expect(ids(scheduler.setCapacity('p', [{ groupId: 'ptu', capacity: 3 }]).grants)).toEqual([
      'urgent',
      'normal-1',
      'normal-2',
    ]);
    expect(ids(scheduler.setCapacity('p', [{ groupId: 'ptu', capacity: 4 }]).grants)).toEqual(['batch']);
  });

  it('lets leases above a reduced capacity run on and grants nothing until usage is below it', () => {
    const { scheduler, request, lease } = setup({}, [{ groupId: 'ptu', capacity: 3 }]);
    const held = ['a', 'b', 'c'].map((id) => lease(scheduler.enqueue(request(id))));
    scheduler.setCapacity('p', [{ groupId: 'ptu', capacity: 1 }]);
    scheduler.enqueue(request('w'));
    expect(scheduler.release((held[0] as Lease).leaseId).grants).toEqual([]);
    expect(scheduler.release((held[1] as Lease).leaseId).grants).toEqual([]);
    expect(ids(scheduler.release((held[2] as Lease).leaseId).grants)).toEqual(['w']);
  });

  it('makes the same decisions after a JSON snapshot and restore', () => {
    const options: SchedulerOptions = {
      agingStepMs: 7_000,
      userShareRatio: 0.3,
      leaseTtlMs: 50_000,
      perLevel: { '1': { reservedSlots: 1 }, '3': { groups: { ptu: 0, payg: 20_000 } } },
    };
    const groups = [
      { groupId: 'ptu', capacity: 2 },
      { groupId: 'payg', capacity: 2 },
    ];
    const { scheduler, clock } = setup(options, groups);
    const rng = seeded(7);
    const run = (target: PriorityScheduler, steps: number, start: number) => {
      const out: unknown[] = [];
      const leases: string[] = [];
      for (let i = start; i < start + steps; i += 1) {
        clock.advance(Math.floor(rng() * 4_000));
        const r = rng();
        if (r < 0.55) {
          const result = target.enqueue({
            requestId: `r${i}`,
            poolId: 'p',
            priority: 1 + Math.floor(rng() * 3),
            userId: `u${Math.floor(rng() * 4)}`,
            deadlineMs: clock.now() + 5_000 + Math.floor(rng() * 60_000),
          });
          if (result.kind === 'granted') leases.push(result.lease.leaseId);
          leases.push(...result.grants.map((g) => g.leaseId));
          out.push(result);
        } else if (r < 0.9) {
          const live = target.snapshot().leases;
          const pick = live[Math.floor(rng() * live.length)];
          const result = target.release(pick?.leaseId ?? 'none');
          out.push(result);
        } else {
          out.push(target.tick());
        }
      }
      return out;
    };
    run(scheduler, 200, 0);
    const saved = JSON.parse(JSON.stringify(scheduler)) as SchedulerSnapshot;
    const restored = PriorityScheduler.restore(saved, { clock, options: { agingStepMs: 0, ...options } });
    expect(restored.snapshot()).toEqual(scheduler.snapshot());
    const startMs = clock.now();
    const rngState = rng.state();
    const original = run(scheduler, 300, 1_000);
    clock.set(startMs);
    rng.reset(rngState);
    const replayed = run(restored, 300, 1_000);
    expect(replayed).toEqual(original);
    expect(restored.stats()).toEqual(scheduler.stats());
  });

  it('holds 10 000 waiting requests, drains them by grant or expiry, and frees their memory', () => {
    const { scheduler, clock } = setup(
      { maxQueueDepth: 20_000, agingStepMs: 1_000, userShareRatio: 0.2, leaseTtlMs: 1_000_000 },
      [{ groupId: 'ptu', capacity: 0 }],
    );
    for (let i = 0; i < 10_000; i += 1) {
      const result = scheduler.enqueue({
        requestId: `r${i}`,
        poolId: 'p',
        priority: 1 + (i % 3),
        userId: `u${i % 50}`,
        deadlineMs: T0 + 10_000 + (i % 997) * 100,
      });
      expect(result.kind).toBe('queued');
    }
    expect(scheduler.stats().pools[0]?.waiting).toBe(10_000);
    let granted = 0;
    let expired = 0;
    const live: string[] = [];
    const grantAll = (leases: readonly Lease[]) => {
      granted += leases.length;
      live.push(...leases.map((l) => l.leaseId));
    };
    grantAll(scheduler.setCapacity('p', [{ groupId: 'ptu', capacity: 100 }]).grants);
    for (let round = 0; round < 3_000 && scheduler.stats().pools[0]?.waiting !== 0; round += 1) {
      clock.advance(50);
      const next = live.shift();
      const result = next === undefined ? scheduler.tick() : scheduler.release(next);
      grantAll(result.grants);
      expired += result.expired.length;
    }
    expect(granted + expired).toBe(10_000);
    expect(granted).toBeGreaterThan(1_000);
    expect(expired).toBeGreaterThan(1_000);
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
    for (const id of live) scheduler.release(id);
    expect(scheduler.storedItemCount()).toBeLessThan(200);
  });

  /**
   * One user floods a lane with `queued` requests, then others keep arriving and overtake them by fair
   * share while leases are released one by one. Returns the scheduler's work steps per release.
   */
  function floodAndOvertake(queued: number): { stepsPerRelease: number; order: string[]; waiting: number } {
    const { scheduler, clock } = setup({ maxQueueDepth: 200_000, userShareRatio: 0.3, leaseTtlMs: 100_000_000 }, [
      { groupId: 'ptu', capacity: 10 },
    ]);
    const live: string[] = [];
    for (let i = 0; i < queued + 10; i += 1) {
      const result = scheduler.enqueue({
        requestId: `flood${i}`,
        poolId: 'p',
        priority: 3,
        userId: 'flooder',
        deadlineMs: T0 + 100_000_000,
      });
      if (result.kind === 'granted') live.push(result.lease.leaseId);
    }
    const order: string[] = [];
    const before = scheduler.workSteps();
    const releases = 2_000;
    for (let i = 0; i < releases; i += 1) {
      clock.advance(10);
      if (i % 2 === 0)
        scheduler.enqueue({
          requestId: `fair${i}`,
          poolId: 'p',
          priority: 3,
          userId: `user${i % 7}`,
          deadlineMs: T0 + 100_000_000,
        });
      const { grants } = scheduler.release(live.shift() ?? 'none');
      for (const g of grants) {
        live.push(g.leaseId);
        order.push(g.userId);
      }
    }
    expect(scheduler.stats().totals.priorityInversions).toBe(0);
    return {
      stepsPerRelease: (scheduler.workSteps() - before) / releases,
      order,
      waiting: scheduler.stats().pools[0]?.levels[2]?.waiting ?? -1,
    };
  }

  it('lets other users overtake one who floods the queue, in work that grows as log n of the queue', () => {
    const small = floodAndOvertake(1_000);
    const large = floodAndOvertake(20_000);
    // Every fair user's request was served ahead of the flooder's older ones.
    expect(large.order.filter((u) => u !== 'flooder')).toHaveLength(1_000);
    expect(large.waiting).toBe(20_000 - (2_000 - 1_000));
    expect(small.order.filter((u) => u !== 'flooder')).toHaveLength(1_000);
    // 20× the queue: log2 grows by ~1.4×; a walk past the flooder's requests would grow 20×.
    expect(small.stepsPerRelease).toBeGreaterThan(0);
    expect(large.stepsPerRelease / small.stepsPerRelease).toBeLessThan(2);
  });

  it('never grants beyond capacity, never grants a request twice and never inverts priority (randomised)', () => {
    for (let seed = 1; seed <= 25; seed += 1) {
      const rng = seeded(seed);
      const clock = new FakeClock(T0);
      const options: SchedulerOptions = {
        agingStepMs: rng() < 0.5 ? 0 : 5_000,
        userShareRatio: 0.2 + rng() * 0.8,
        leaseTtlMs: 30_000,
        maxQueueDepth: 40,
        perLevel: {
          '1': { reservedSlots: Math.floor(rng() * 2) },
          '3': { reservedSlots: Math.floor(rng() * 2), groups: { ptu: 0, '*': 10_000 } },
        },
      };
      const scheduler = new PriorityScheduler({ clock, options });
      const capacity = new Map<string, number>();
      const leases = new Map<string, Lease>();
      const everGranted = new Set<string>();
      const setCap = () => {
        const groups = [
          { groupId: 'ptu', capacity: Math.floor(rng() * 4) },
          { groupId: 'payg', capacity: Math.floor(rng() * 4) },
        ];
        for (const g of groups) capacity.set(g.groupId, g.capacity);
        return scheduler.setCapacity('p', groups);
      };
      const inUse = (groupId: string) => [...leases.values()].filter((l) => l.groupId === groupId).length;
      const absorb = (grants: readonly Lease[], expiredLeases: readonly Lease[]) => {
        for (const l of expiredLeases) leases.delete(l.leaseId);
        for (const l of grants) {
          expect(everGranted.has(l.requestId)).toBe(false);
          everGranted.add(l.requestId);
          leases.set(l.leaseId, l);
          expect(inUse(l.groupId)).toBeLessThanOrEqual(capacity.get(l.groupId) ?? 0);
        }
      };
      const first = setCap();
      absorb(first.grants, first.expiredLeases);
      for (let step = 0; step < 400; step += 1) {
        clock.advance(Math.floor(rng() * 3_000));
        const r = rng();
        if (r < 0.5) {
          const groupsPick = rng();
          const result = scheduler.enqueue({
            requestId: `s${seed}-${step}`,
            poolId: 'p',
            priority: 1 + Math.floor(rng() * 3),
            userId: `u${Math.floor(rng() * 5)}`,
            deadlineMs: clock.now() + Math.floor(rng() * 40_000),
            ...(groupsPick < 0.2 ? { allowedGroups: ['ptu'] } : groupsPick < 0.3 ? { allowedGroups: ['payg'] } : {}),
          });
          absorb(result.kind === 'granted' ? [...result.grants, result.lease] : result.grants, result.expiredLeases);
        } else if (r < 0.8) {
          const all = [...leases.keys()];
          const pick = all[Math.floor(rng() * all.length)] ?? 'none';
          const result = scheduler.release(pick);
          leases.delete(pick);
          absorb(result.grants, result.expiredLeases);
        } else if (r < 0.88) {
          const result = scheduler.cancel(`s${seed}-${step - 1 - Math.floor(rng() * 10)}`);
          absorb(result.grants, result.expiredLeases);
        } else if (r < 0.93) {
          const result = setCap();
          absorb(result.grants, result.expiredLeases);
        } else {
          const result = scheduler.tick();
          absorb(result.grants, result.expiredLeases);
        }
        const stats = scheduler.stats();
        expect(stats.pools[0]?.leases).toBe(leases.size);
      }
      expect(scheduler.stats().totals.priorityInversions).toBe(0);
      expect(scheduler.stats().totals.grants).toBe(everGranted.size);
    }
  });

  it('plays the worked example of docs/scheduling.md', () => {
    const { scheduler, request, clock, lease } = setup(
      {
        agingStepMs: 20_000,
        userShareRatio: 0.5,
        perLevel: { '1': { reservedSlots: 1 }, '3': { groups: { ptu: 0, payg: 60_000 } } },
      },
      [
        { groupId: 'ptu', capacity: 2 },
        { groupId: 'payg', capacity: 2 },
      ],
    );
    const at = (s: number) => clock.set(T0 + s * 1_000);
    const b1 = lease(scheduler.enqueue(request('b1', { priority: 3, userId: 'etl' })));
    expect(lease(scheduler.enqueue(request('b2', { priority: 3, userId: 'etl' }))).groupId).toBe('ptu');
    expect(scheduler.enqueue(request('b3', { priority: 3, userId: 'etl' })).kind).toBe('queued');
    at(1);
    const c1 = lease(scheduler.enqueue(request('c1', { userId: 'ann' })));
    expect(c1).toMatchObject({ groupId: 'payg', reason: 'spill' });
    at(2);
    expect(scheduler.enqueue(request('c2', { userId: 'bob' })).kind).toBe('queued');
    at(3);
    const u1 = lease(scheduler.enqueue(request('u1', { priority: 1 })));
    expect(u1).toMatchObject({ groupId: 'payg', reason: 'reserved' });
    at(10);
    expect(scheduler.release(b1.leaseId).grants).toMatchObject([{ requestId: 'c2', groupId: 'ptu' }]);
    at(60);
    expect(scheduler.tick().grants).toEqual([]);
    at(61);
    expect(scheduler.release(u1.leaseId).grants).toEqual([]);
    at(70);
    expect(scheduler.release(c1.leaseId).grants).toMatchObject([
      { requestId: 'b3', groupId: 'payg', reason: 'spill', waitedMs: 70_000, effectiveLevel: 1 },
    ]);
  });

  it('rejects a priority outside the configured levels and a duplicate request id', () => {
    const { scheduler, request } = setup();
    expect(() => scheduler.enqueue(request('x', { priority: 0 }))).toThrow(RangeError);
    expect(() => scheduler.enqueue(request('x', { priority: 4 }))).toThrow(RangeError);
    scheduler.enqueue(request('x'));
    expect(() => scheduler.enqueue(request('x'))).toThrow(/already/);
  });

  it('uses the default level when a request names none', () => {
    const { scheduler, request, lease } = setup({ defaultLevel: 3 });
    const { priority: _omitted, ...rest } = request('x');
    expect(lease(scheduler.enqueue(rest)).level).toBe(3);
  });

  it('reports capacity, use and queue figures per pool and level', () => {
    const { scheduler, request, clock } = setup({}, [
      { groupId: 'ptu', capacity: 1 },
      { groupId: 'payg', capacity: 1 },
    ]);
    scheduler.enqueue(request('a'));
    scheduler.enqueue(request('b'));
    scheduler.enqueue(request('c', { priority: 3 }));
    clock.advance(2_500);
    const pool = scheduler.stats().pools[0];
    expect(pool?.groups).toEqual([
      { groupId: 'ptu', capacity: 1, inUse: 1 },
      { groupId: 'payg', capacity: 1, inUse: 1 },
    ]);
    expect(pool?.levels[2]).toMatchObject({ level: 3, waiting: 1, oldestWaitMs: 2_500 });
    expect(pool?.levels[0]).toMatchObject({ level: 1, waiting: 0, oldestWaitMs: 0 });
  });
});

/** A small deterministic PRNG (mulberry32) with a resettable state. */
function seeded(seed: number): (() => number) & { state(): number; reset(state: number): void } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return Object.assign(next, {
    state: () => a,
    reset: (state: number) => {
      a = state;
    },
  });
}

describe('PriorityScheduler.setOptions (hot reload)', () => {
  it('applies a new spill policy to the next decision and refuses a change of the number of levels', () => {
    const clock = new FakeClock();
    const scheduler = new PriorityScheduler({ clock, options: { perLevel: { '3': { groups: { ptu: 0 } } } } });
    scheduler.setCapacity('p', [
      { groupId: 'ptu', capacity: 0 },
      { groupId: 'payg', capacity: 1 },
    ]);
    const first = scheduler.enqueue({
      requestId: 'batch-1',
      poolId: 'p',
      priority: 3,
      userId: 'u',
      deadlineMs: clock.now() + 60_000,
    });
    expect(first.kind).toBe('queued');
    scheduler.setOptions({ perLevel: { '3': { groups: { ptu: 0, payg: 0 } } } });
    const effects = scheduler.tick();
    expect(effects.grants.map((g) => [g.requestId, g.groupId])).toEqual([['batch-1', 'payg']]);
    expect(() => scheduler.setOptions({ levels: 5 })).toThrow(RangeError);
  });
});
