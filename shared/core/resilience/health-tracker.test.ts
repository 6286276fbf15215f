import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { MemoryBackendHealthStore } from '../../adapters/memory/memory-backend-health-store.js';
import type { BackendHealth, BackendHealthStore } from '../../ports/backend-health-store.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.js';
import { HealthTracker, type HealthChange, type HealthTrackerOptions } from './health-tracker.js';

const breaker = {
  ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  failureThreshold: 3,
  minimumRequests: 3,
  failureRatio: 0.5,
  openIntervalMs: 10_000,
  openIntervalMultiplier: 2,
  maxOpenIntervalMs: 60_000,
  trialTimeoutMs: 5_000,
};

class CountingStore implements BackendHealthStore {
  reads = 0;
  updates = 0;
  constructor(readonly inner: BackendHealthStore = new MemoryBackendHealthStore()) {}
  read(ids: readonly string[]): Promise<Map<string, BackendHealth>> {
    this.reads++;
    return this.inner.read(ids);
  }
  update(
    id: string,
    mutate: (c: BackendHealth | undefined) => BackendHealth | undefined,
  ): Promise<BackendHealth | undefined> {
    this.updates++;
    return this.inner.update(id, mutate);
  }
  async record(id: string): Promise<BackendHealth | undefined> {
    return (await this.inner.read([id])).get(id);
  }
}

function setup(options: Partial<HealthTrackerOptions> = {}, store = new CountingStore(), clock = new FakeClock()) {
  const errors: unknown[] = [];
  const tracker = new HealthTracker({ store, clock, onError: (e) => errors.push(e) }, { breaker, ...options });
  return { tracker, store, clock, errors };
}

function trip(tracker: HealthTracker, id: string): void {
  for (let i = 0; i < 3; i++) tracker.recordFailure(id, { countsAsBreakerFailure: true });
}

describe('HealthTracker', () => {
  it('treats an unknown backend as closed and usable', () => {
    const { tracker } = setup();
    expect(tracker.snapshot('a')).toMatchObject({
      backendId: 'a',
      state: 'closed',
      usable: true,
      trialAvailable: false,
      consecutiveOpens: 0,
    });
    expect(tracker.tryAcquire('a')).toEqual({ granted: true, trial: false });
  });

  it('opens the breaker after enough failures and writes the trip once', async () => {
    const { tracker, store, clock } = setup();
    await tracker.refresh();
    trip(tracker, 'a');
    tracker.recordFailure('a', { countsAsBreakerFailure: true });
    await tracker.flush();
    expect(tracker.snapshot('a')).toMatchObject({
      state: 'open',
      usable: false,
      openUntilMs: clock.now() + 10_000,
      availableAtMs: clock.now() + 10_000,
    });
    expect(tracker.tryAcquire('a')).toEqual({ granted: false, reason: 'open', retryAtMs: clock.now() + 10_000 });
    expect(store.updates).toBe(1);
    expect(await store.record('a')).toMatchObject({
      breaker: { state: 'open', openUntilMs: clock.now() + 10_000, consecutiveOpens: 1 },
    });
  });

  it('writes nothing for outcomes that change no state', async () => {
    const { tracker, store } = setup();
    for (let i = 0; i < 50; i++) tracker.recordSuccess('a', 100);
    tracker.recordFailure('a', { countsAsBreakerFailure: true });
    tracker.recordFailure('a', { countsAsBreakerFailure: false });
    await tracker.flush();
    expect(store.updates).toBe(0);
  });

  it('admits exactly one half-open trial, and closes on its success', async () => {
    const { tracker, store, clock } = setup();
    trip(tracker, 'a');
    clock.advance(10_000);
    expect(tracker.snapshot('a')).toMatchObject({ state: 'half-open', usable: true, trialAvailable: true });
    expect(tracker.tryAcquire('a')).toEqual({ granted: true, trial: true });
    expect(tracker.tryAcquire('a')).toEqual({
      granted: false,
      reason: 'trial-in-flight',
      retryAtMs: clock.now() + 5_000,
    });
    expect(tracker.snapshot('a').usable).toBe(false);
    await tracker.flush();
    expect((await store.record('a'))?.breaker.state).toBe('half-open');
    tracker.recordSuccess('a', 200);
    await tracker.flush();
    expect(tracker.snapshot('a')).toMatchObject({ state: 'closed', usable: true, consecutiveOpens: 0 });
    expect(await store.record('a')).toMatchObject({
      breaker: { state: 'closed', consecutiveOpens: 0 },
      latencyEwmaMs: 200,
    });
  });

  it('re-opens on a trial failure with a longer interval', () => {
    const { tracker, clock } = setup();
    trip(tracker, 'a');
    clock.advance(10_000);
    tracker.tryAcquire('a');
    tracker.recordFailure('a', { countsAsBreakerFailure: true });
    expect(tracker.snapshot('a')).toMatchObject({
      state: 'open',
      openUntilMs: clock.now() + 20_000,
      consecutiveOpens: 2,
    });
  });

  it('releases a trial that never reports back after the trial timeout', () => {
    const { tracker, clock } = setup();
    trip(tracker, 'a');
    clock.advance(10_000);
    expect(tracker.tryAcquire('a')).toMatchObject({ granted: true, trial: true });
    clock.advance(5_000);
    expect(tracker.tryAcquire('a')).toMatchObject({ granted: true, trial: true });
  });

  it('gives the trial to the next caller when it is released or ends without a verdict', () => {
    const { tracker, clock } = setup();
    trip(tracker, 'a');
    clock.advance(10_000);
    tracker.tryAcquire('a');
    tracker.release('a');
    expect(tracker.tryAcquire('a')).toMatchObject({ granted: true, trial: true });
    tracker.recordFailure('a', { countsAsBreakerFailure: false });
    expect(tracker.tryAcquire('a')).toMatchObject({ granted: true, trial: true });
  });

  it('cools a throttled backend without counting a breaker failure, and writes the cooling', async () => {
    const { tracker, store, clock } = setup();
    tracker.recordFailure('a', { countsAsBreakerFailure: false, coolDownMs: 2_000 });
    await tracker.flush();
    expect(tracker.snapshot('a')).toMatchObject({
      state: 'closed',
      usable: false,
      coolingUntilMs: clock.now() + 2_000,
      availableAtMs: clock.now() + 2_000,
    });
    expect(tracker.tryAcquire('a')).toEqual({ granted: false, reason: 'cooling', retryAtMs: clock.now() + 2_000 });
    expect((await store.record('a'))?.coolingUntilMs).toBe(clock.now() + 2_000);
    clock.advance(2_000);
    expect(tracker.snapshot('a')).toMatchObject({ usable: true });
    expect(tracker.snapshot('a').coolingUntilMs).toBeUndefined();
  });

  it('does not rewrite the cooling for every 429 of a storm', async () => {
    const { tracker, store, clock } = setup();
    for (let i = 0; i < 100; i++) {
      tracker.recordFailure('a', { countsAsBreakerFailure: false, coolDownMs: 5_000 });
      clock.advance(10);
    }
    await tracker.flush();
    expect(store.updates).toBe(1);
  });

  it('sees a trip written by another instance within the cache TTL, without awaiting on the hot path', async () => {
    const store = new MemoryBackendHealthStore();
    const clock = new FakeClock();
    const a = setup({}, new CountingStore(store), clock).tracker;
    const b = setup({}, new CountingStore(store), clock).tracker;
    const changes: HealthChange[] = [];
    b.onChange((c) => changes.push(c));
    expect(b.snapshot('x').usable).toBe(true);
    await b.flush();
    trip(a, 'x');
    await a.flush();
    expect(b.snapshot('x').usable).toBe(true);
    clock.advance(1_000);
    expect(b.snapshot('x').usable).toBe(true); // the refresh has only started
    await b.flush();
    expect(b.snapshot('x')).toMatchObject({ state: 'open', usable: false, openUntilMs: clock.now() - 1_000 + 10_000 });
    expect(b.tryAcquire('x')).toMatchObject({ granted: false, reason: 'open' });
    expect(changes).toEqual([expect.objectContaining({ backendId: 'x', usable: false })]);
  });

  it('sees a close written by another instance, and the cooling another instance set', async () => {
    const store = new MemoryBackendHealthStore();
    const clock = new FakeClock();
    const a = setup({}, new CountingStore(store), clock).tracker;
    const b = setup({}, new CountingStore(store), clock).tracker;
    trip(a, 'x');
    await a.flush();
    b.snapshot('x');
    await b.flush();
    expect(b.snapshot('x').state).toBe('open');
    clock.advance(10_000);
    a.tryAcquire('x');
    a.recordSuccess('x', 50);
    a.recordFailure('y', { countsAsBreakerFailure: false, coolDownMs: 30_000 });
    b.snapshot('y');
    await a.flush();
    await b.flush();
    clock.advance(1_000);
    b.tick();
    await b.flush();
    expect(b.snapshot('x')).toMatchObject({ state: 'closed', usable: true });
    expect(b.snapshot('y')).toMatchObject({ usable: false, coolingUntilMs: clock.now() - 1_000 + 30_000 });
  });

  it('does not adopt an old remote trip after closing the breaker itself', async () => {
    const store = new CountingStore();
    const { tracker, clock } = setup({}, store);
    const now = clock.now();
    await store.inner.update('x', () => ({
      breaker: { state: 'open', openedAtMs: now - 60_000, openUntilMs: now - 50_000, consecutiveOpens: 1 },
      version: 0,
      updatedAtMs: now - 60_000,
    }));
    trip(tracker, 'x');
    clock.advance(10_000);
    tracker.tryAcquire('x');
    tracker.recordSuccess('x', 10);
    await tracker.flush();
    clock.advance(1_000);
    tracker.snapshot('x');
    await tracker.flush();
    expect(tracker.snapshot('x').state).toBe('closed');
  });

  it('keeps at most one refresh in flight', async () => {
    let release: (() => void) | undefined;
    const inner = new MemoryBackendHealthStore();
    const slow: BackendHealthStore = {
      read: (ids) => new Promise((resolve) => (release = () => void inner.read(ids).then(resolve))),
      update: (id, m) => inner.update(id, m),
    };
    const store = new CountingStore(slow);
    const { tracker, clock } = setup({}, store);
    for (let i = 0; i < 20; i++) {
      tracker.snapshot('a');
      clock.advance(500);
    }
    await Promise.resolve();
    expect(store.reads).toBe(1);
    release?.();
    await tracker.flush();
    tracker.snapshot('a');
    await Promise.resolve();
    expect(store.reads).toBe(2);
    release?.();
    await tracker.flush();
  });

  it('reports store failures through onError and keeps serving from memory', async () => {
    const failing: BackendHealthStore = {
      read: () => Promise.reject(new Error('read down')),
      update: () => Promise.reject(new Error('write down')),
    };
    const { tracker, errors } = setup({}, new CountingStore(failing));
    tracker.snapshot('a');
    trip(tracker, 'a');
    await tracker.flush();
    expect(tracker.snapshot('a').state).toBe('open');
    expect(errors.map((e) => (e as Error).message).sort()).toEqual(['read down', 'write down']);
  });

  it('emits capacity-returned on tick when cooling ends and when the open interval passes', () => {
    const { tracker, clock } = setup();
    const changes: HealthChange[] = [];
    tracker.onChange((c) => changes.push(c));
    tracker.snapshot('a');
    tracker.snapshot('b');
    tracker.recordFailure('a', { countsAsBreakerFailure: false, coolDownMs: 1_000 });
    trip(tracker, 'b');
    expect(changes.map((c) => [c.backendId, c.usable])).toEqual([
      ['a', false],
      ['b', false],
    ]);
    clock.advance(1_000);
    tracker.tick();
    clock.advance(9_000);
    tracker.tick();
    expect(changes.map((c) => [c.backendId, c.usable])).toEqual([
      ['a', false],
      ['b', false],
      ['a', true],
      ['b', true],
    ]);
    expect(changes[3]?.view).toMatchObject({ state: 'half-open', trialAvailable: true });
  });

  it('unsubscribes listeners and routes listener errors to onError', () => {
    const { tracker, errors } = setup();
    const bad = vi.fn(() => {
      throw new Error('listener broke');
    });
    const off = tracker.onChange(bad);
    tracker.snapshot('a');
    trip(tracker, 'a');
    expect(errors).toHaveLength(1);
    off();
    tracker.release('a');
    tracker.recordFailure('a', { countsAsBreakerFailure: false, coolDownMs: 1 });
    expect(bad).toHaveBeenCalledTimes(1);
  });

  it('computes the earliest reopen and the usable count', () => {
    const { tracker, clock } = setup();
    const now = clock.now();
    trip(tracker, 'a');
    tracker.recordFailure('b', { countsAsBreakerFailure: false, coolDownMs: 4_000 });
    expect(tracker.earliestReopenMs(['a', 'b'])).toBe(now + 4_000);
    expect(tracker.usableCount(['a', 'b'])).toBe(0);
    expect(tracker.usableCount(['a', 'b', 'c'])).toBe(1);
    expect(tracker.earliestReopenMs(['a', 'b', 'c'])).toBe(now);
    expect(tracker.earliestReopenMs([])).toBeUndefined();
  });

  it('keeps a latency EWMA of real calls', () => {
    const { tracker } = setup({ latencyEwmaAlpha: 0.5 });
    tracker.recordSuccess('a', 100);
    tracker.recordSuccess('a', 300);
    expect(tracker.snapshot('a').latencyEwmaMs).toBe(200);
  });

  it('opens the breaker after consecutive failed probes and writes the probe only when it flips', async () => {
    const { tracker, store, clock } = setup({ probeFailureThreshold: 3 });
    tracker.recordProbe('a', { ok: true, latencyMs: 10, status: 200 });
    clock.advance(15_000);
    tracker.recordProbe('a', { ok: false, latencyMs: 3_000 });
    clock.advance(15_000);
    tracker.recordProbe('a', { ok: false, latencyMs: 3_000 });
    expect(tracker.snapshot('a').state).toBe('closed');
    clock.advance(15_000);
    tracker.recordProbe('a', { ok: false, latencyMs: 3_000 });
    expect(tracker.snapshot('a')).toMatchObject({
      state: 'open',
      usable: false,
      lastProbe: { ok: false, latencyMs: 3_000 },
    });
    await tracker.flush();
    expect(store.updates).toBe(3); // first probe, flip to failing, trip
    expect(await store.record('a')).toMatchObject({ breaker: { state: 'open' }, lastProbe: { ok: false } });
  });

  it('makes the trial available at once when a probe passes on an open breaker', () => {
    const { tracker } = setup();
    trip(tracker, 'a');
    tracker.recordProbe('a', { ok: true, latencyMs: 20, status: 200 });
    expect(tracker.snapshot('a')).toMatchObject({ state: 'half-open', trialAvailable: true });
    expect(tracker.tryAcquire('a')).toEqual({ granted: true, trial: true });
  });

  it('applies new breaker thresholds on the next decision (hot reload)', () => {
    const { tracker } = setup();
    tracker.recordFailure('a', { countsAsBreakerFailure: true });
    tracker.setOptions({ breaker: { ...breaker, failureThreshold: 2, minimumRequests: 2 } });
    tracker.recordFailure('a', { countsAsBreakerFailure: true });
    expect(tracker.snapshot('a').state).toBe('open');
  });

  it('forgets backends that are no longer configured', async () => {
    const { tracker, store, clock } = setup();
    trip(tracker, 'a');
    tracker.snapshot('b');
    tracker.retain(['b']);
    await tracker.flush();
    clock.advance(1_000);
    const read = vi.spyOn(store.inner, 'read');
    tracker.tick();
    await tracker.flush();
    expect(read).toHaveBeenCalledWith(['b']);
  });
});
