import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import { PriorityScheduler } from './priority-scheduler.js';
import { SchedulerGate, type AcquireRequest, type SetTimer } from './scheduler-gate.js';
import type { SchedulerOptions } from './scheduler-options.js';
import type { Lease } from './scheduler-types.js';

const T0 = 1_700_000_000_000;

/** Timers driven by a fake clock: `advance` fires due callbacks in time order. */
function manualTimers(clock: FakeClock) {
  const timers: Array<{ atMs: number; callback: () => void; active: boolean }> = [];
  const setTimer: SetTimer = (callback, delayMs) => {
    const timer = { atMs: clock.now() + delayMs, callback, active: true };
    timers.push(timer);
    return () => {
      timer.active = false;
    };
  };
  const advance = (ms: number): void => {
    const target = clock.now() + ms;
    for (let guard = 0; guard < 10_000; guard += 1) {
      const due = timers.filter((t) => t.active && t.atMs <= target).sort((a, b) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      due.active = false;
      clock.set(Math.max(clock.now(), due.atMs));
      due.callback();
    }
    clock.set(target);
  };
  return { setTimer, advance, active: () => timers.filter((t) => t.active).length };
}

function setup(options: SchedulerOptions = {}, capacity = 1) {
  const clock = new FakeClock(T0);
  const timers = manualTimers(clock);
  const scheduler = new PriorityScheduler({ clock, options: { agingStepMs: 0, ...options } });
  const expiredLeases: Lease[] = [];
  const gate = new SchedulerGate({
    scheduler,
    clock,
    setTimer: timers.setTimer,
    onLeaseExpired: (l) => expiredLeases.push(l),
  });
  gate.setCapacity('p', [{ groupId: 'ptu', capacity }]);
  const request = (requestId: string, over: Partial<AcquireRequest> = {}): AcquireRequest => ({
    requestId,
    poolId: 'p',
    priority: 2,
    userId: 'u',
    deadlineMs: clock.now() + 60_000,
    ...over,
  });
  return { clock, timers, scheduler, gate, request, expiredLeases };
}

/** Settles a promise into an inspectable record without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SchedulerGate', () => {
  it('resolves at once when capacity is free and hands the slot to the next waiter on release', async () => {
    const { gate, request } = setup();
    const first = await gate.acquire(request('a'));
    const second = track(gate.acquire(request('b')));
    await flush();
    expect(second.settled).toBe(false);
    gate.release(first);
    await flush();
    expect(second.value).toMatchObject({ requestId: 'b', groupId: 'ptu' });
  });

  it('rejects with GW_ERR_QUEUE_FULL and a retry-after when the level queue is full', async () => {
    const { gate, request } = setup({ maxQueueDepth: 1, retryAfterMs: 2_000 });
    await gate.acquire(request('a'));
    void gate.acquire(request('b')).catch(() => undefined);
    const error = await gate.acquire(request('c')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'GW_ERR_QUEUE_FULL', status: 429, retryAfterMs: 2_000 });
  });

  it('rejects with GW_ERR_REQUEST_TTL_EXPIRED at the deadline, using one timer for all waiters', async () => {
    const { gate, request, timers, scheduler } = setup();
    await gate.acquire(request('held'));
    const waiters = [5_000, 3_000, 9_000].map((ttl, i) =>
      track(gate.acquire(request(`w${i}`, { deadlineMs: T0 + ttl }))),
    );
    expect(timers.active()).toBe(1);
    timers.advance(3_000);
    await flush();
    expect(waiters.map((w) => w.settled)).toEqual([false, true, false]);
    expect(waiters[1]?.error).toMatchObject({ code: 'GW_ERR_REQUEST_TTL_EXPIRED', status: 412 });
    timers.advance(6_000);
    await flush();
    expect(waiters.every((w) => w.settled)).toBe(true);
    expect(timers.active()).toBe(1); // the held lease's expiry remains armed
    expect(scheduler.stats().pools[0]?.waiting).toBe(0);
  });

  it('removes a waiting entry when the caller aborts', async () => {
    const { gate, request, scheduler } = setup();
    const held = await gate.acquire(request('held'));
    const controller = new AbortController();
    const aborted = track(gate.acquire(request('gone', { signal: controller.signal })));
    const next = track(gate.acquire(request('next')));
    controller.abort(new Error('client disconnected'));
    await flush();
    expect(aborted.error).toMatchObject({ message: 'client disconnected' });
    expect(scheduler.isWaiting('gone')).toBe(false);
    gate.release(held);
    await flush();
    expect(next.value?.requestId).toBe('next');
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { gate, request, scheduler } = setup();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(gate.acquire(request('a', { signal: controller.signal }))).rejects.toThrow('gone');
    expect(scheduler.stats().totals.enqueued).toBe(0);
  });

  it('reclaims a lease past its TTL, reports it and grants the next waiter', async () => {
    const { gate, request, timers, expiredLeases } = setup({ leaseTtlMs: 20_000 });
    const crashed = await gate.acquire(request('crashed'));
    const next = track(gate.acquire(request('next', { deadlineMs: T0 + 60_000 })));
    timers.advance(20_000);
    await flush();
    expect(expiredLeases.map((l) => l.leaseId)).toEqual([crashed.leaseId]);
    expect(next.value?.requestId).toBe('next');
  });

  it('grants waiters in priority order when capacity grows', async () => {
    const { gate, request } = setup({}, 0);
    const order: string[] = [];
    const all = [
      gate.acquire(request('batch', { priority: 3 })),
      gate.acquire(request('urgent', { priority: 1 })),
      gate.acquire(request('normal', { priority: 2 })),
    ].map((p) => p.then((l) => order.push(l.requestId)));
    gate.setCapacity('p', [{ groupId: 'ptu', capacity: 3 }]);
    await Promise.all(all);
    expect(order).toEqual(['urgent', 'normal', 'batch']);
  });

  it('returns a grant nobody waits for, so a lost waiter cannot leak capacity', async () => {
    const { gate, request, scheduler, clock } = setup();
    const held = await gate.acquire(request('held'));
    // A request queued behind the gate's back (e.g. restored state) has no waiter here.
    scheduler.enqueue({ requestId: 'orphan', poolId: 'p', userId: 'u', deadlineMs: clock.now() + 60_000 });
    const next = track(gate.acquire(request('next')));
    gate.release(held);
    await flush();
    expect(next.value?.requestId).toBe('next');
    expect(scheduler.stats().pools[0]?.leases).toBe(1);
  });

  it('rejects every waiter with GW_ERR_SERVICE_SHUTTING_DOWN on dispose', async () => {
    const { gate, request, scheduler, timers } = setup();
    await gate.acquire(request('held'));
    const waiters = [track(gate.acquire(request('a'))), track(gate.acquire(request('b')))];
    gate.dispose();
    await flush();
    expect(waiters.map((w) => (w.error as GatewayError).code)).toEqual([
      'GW_ERR_SERVICE_SHUTTING_DOWN',
      'GW_ERR_SERVICE_SHUTTING_DOWN',
    ]);
    expect(scheduler.stats().pools[0]?.waiting).toBe(0);
    expect(timers.active()).toBe(0);
    await expect(gate.acquire(request('late'))).rejects.toMatchObject({ code: 'GW_ERR_SERVICE_SHUTTING_DOWN' });
  });
});
