import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import type { ProbeReport } from './health-tracker.js';
import { HealthProber, type ProbeFunction, type ProbeTarget, type ProbeTimers } from './health-prober.js';

/** Timers driven by a FakeClock: `advance` runs due callbacks in time order. */
class FakeTimers implements ProbeTimers {
  private seq = 0;
  private readonly due = new Map<number, { atMs: number; callback: () => void }>();
  constructor(private readonly clock: FakeClock) {}
  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = ++this.seq;
    this.due.set(id, { atMs: this.clock.now() + delayMs, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }
  get pending(): number {
    return this.due.size;
  }
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      await flush();
      const next = [...this.due.entries()].sort((a, b) => a[1].atMs - b[1].atMs || a[0] - b[0])[0];
      if (next === undefined || next[1].atMs > end) break;
      this.due.delete(next[0]);
      this.clock.set(Math.max(this.clock.now(), next[1].atMs));
      next[1].callback();
    }
    this.clock.set(end);
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const settings = {
  path: '/health',
  method: 'GET' as const,
  intervalMs: 15_000,
  timeoutMs: 3_000,
  expectStatus: [] as number[],
};

function setup(probe: ProbeFunction, targets: ProbeTarget[] = [{ id: 'a', probe: settings }]) {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const results: Array<[string, ProbeReport]> = [];
  const errors: unknown[] = [];
  const prober = new HealthProber(
    { probe, timers, clock, sink: { recordProbe: (id, r) => results.push([id, r]) }, onError: (e) => errors.push(e) },
    targets,
  );
  return { clock, timers, results, errors, prober };
}

describe('HealthProber', () => {
  it('probes at once on start, then every interval', async () => {
    let calls = 0;
    const { timers, results, prober } = setup(() => {
      calls++;
      return Promise.resolve({ status: 200, latencyMs: 12 });
    });
    prober.start();
    await timers.advance(0);
    expect(calls).toBe(1);
    expect(results).toEqual([['a', { ok: true, latencyMs: 12, status: 200 }]]);
    await timers.advance(45_000);
    expect(calls).toBe(4);
    prober.stop();
  });

  it('does not probe a failing backend faster than its interval', async () => {
    let calls = 0;
    const { timers, results, prober } = setup(() => {
      calls++;
      return Promise.reject(new Error('ECONNREFUSED'));
    });
    prober.start();
    await timers.advance(60_000);
    expect(calls).toBe(5);
    expect(results.every(([, r]) => !r.ok)).toBe(true);
    prober.stop();
  });

  it('aborts a probe at its timeout and reports it failed; a late answer is dropped', async () => {
    let signal: AbortSignal | undefined;
    let answer: ((v: { status: number; latencyMs: number }) => void) | undefined;
    const { timers, results, prober } = setup((_t, s) => {
      signal = s;
      return new Promise((resolve) => (answer = resolve));
    });
    prober.start();
    await timers.advance(2_999);
    expect(results).toHaveLength(0);
    await timers.advance(1);
    expect(signal?.aborted).toBe(true);
    expect(results).toEqual([['a', { ok: false, latencyMs: 3_000 }]]);
    answer?.({ status: 200, latencyMs: 5_000 });
    await flush();
    expect(results).toHaveLength(1);
    prober.stop();
  });

  it('judges the status by expectStatus, or any 2xx when empty', async () => {
    const statuses = [204, 500];
    const { timers, results, prober } = setup(
      () => Promise.resolve({ status: statuses.shift() ?? 200, latencyMs: 1 }),
      [
        { id: 'any2xx', probe: settings },
        { id: 'only200', probe: { ...settings, expectStatus: [200] } },
      ],
    );
    prober.start();
    await timers.advance(0);
    expect(results).toEqual([
      ['any2xx', { ok: true, latencyMs: 1, status: 204 }],
      ['only200', { ok: false, latencyMs: 1, status: 500 }],
    ]);
    prober.stop();
  });

  it('reports transport errors through onError', async () => {
    const { timers, errors, prober } = setup(() => Promise.reject(new Error('dns')));
    prober.start();
    await timers.advance(0);
    expect(errors).toHaveLength(1);
    prober.stop();
  });

  it('stops: no timers left, in-flight probes aborted, no more results', async () => {
    let signal: AbortSignal | undefined;
    const { timers, results, prober } = setup((_t, s) => {
      signal = s;
      return new Promise(() => undefined);
    });
    prober.start();
    await timers.advance(0);
    prober.stop();
    expect(signal?.aborted).toBe(true);
    expect(timers.pending).toBe(0);
    await timers.advance(60_000);
    expect(results).toHaveLength(0);
  });

  it('applies new targets: removed ones stop, added ones start, changed intervals apply next time', async () => {
    const calls: string[] = [];
    const { timers, prober } = setup(
      (t) => {
        calls.push(t.id);
        return Promise.resolve({ status: 200, latencyMs: 1 });
      },
      [
        { id: 'a', probe: settings },
        { id: 'b', probe: settings },
      ],
    );
    prober.start();
    await timers.advance(0);
    prober.setTargets([
      { id: 'b', probe: { ...settings, intervalMs: 5_000 } },
      { id: 'c', probe: settings },
    ]);
    await timers.advance(0);
    await timers.advance(15_000);
    await timers.advance(10_000);
    expect(calls.filter((id) => id === 'a')).toHaveLength(1);
    expect(calls.filter((id) => id === 'c')).toHaveLength(2);
    expect(calls.filter((id) => id === 'b')).toHaveLength(4); // 0, 15 000, then every 5 000 → 20 000, 25 000
    prober.stop();
  });
});
