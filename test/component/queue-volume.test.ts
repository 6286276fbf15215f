import { beforeAll, describe, expect, it } from 'vitest';
import { ManualTimers } from '../../shared/core/jobs/test-support/manual-timers.js';
import { FakeClock } from '../../shared/core/test-support/fake-clock.js';
import {
  DEFAULT_VOLUME,
  formatVolume,
  runQueueVolume,
  type VolumeResult,
} from '../../simulator/saturation/queue-volume.js';

// 10,000 calls through runtime.gateway.handle into a pool of capacity 1 (backend 50 ms), x-gateway-ttl 2 s,
// maxQueueDepth 10,000. The TTLs run on a fake clock: however long enqueueing takes on a loaded machine,
// nothing expires until every call waits and one was served; then the clock moves 2 s in one step and every
// waiting call must expire at once — not before its TTL, not after. `node dist/simulator/saturation/main.js`
// runs the same on the real clock and prints the figures.
describe('10,000 queued requests', () => {
  let run: VolumeResult;
  const o = { ...DEFAULT_VOLUME, marginMs: 0 };
  beforeAll(async () => {
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    run = await runQueueVolume(o, {
      clock,
      schedulerTimer: timers.setTimer,
      passTtl: (ms) => timers.advance(ms),
    });
    console.log(formatVolume(run));
  }, 300_000);

  it('queues them all (the queue is deep enough) and serves calls while they wait', () => {
    expect(run.queued.expired).toBe(0);
    expect(run.queued.granted).toBeGreaterThanOrEqual(1);
    expect(run.queued.waiting).toBe(o.calls - run.queued.granted);
    expect(run.outcomes['200']).toBeGreaterThan(0);
  });

  it('answers every call with 200, or 412 GW_ERR_REQUEST_TTL_EXPIRED once its TTL passed', () => {
    const total = Object.values(run.outcomes).reduce((a, b) => a + b, 0);
    expect(total).toBe(o.calls);
    expect(Object.keys(run.outcomes).filter((k) => !/^(200|412 GW_ERR_REQUEST_TTL_EXPIRED)$/.test(k))).toEqual([]);
    // Every other call waited until its TTL and expired in the scheduler; of the granted ones, all were served
    // but at most the one holding the pool's single slot when the TTL passed (its deadline ends it too).
    const expired = run.outcomes['412 GW_ERR_REQUEST_TTL_EXPIRED'] ?? 0;
    expect(run.granted + run.expiredWaiting).toBe(o.calls);
    expect(expired - run.expiredWaiting).toBeGreaterThanOrEqual(0);
    expect(expired - run.expiredWaiting).toBeLessThanOrEqual(1);
    expect(run.outcomes['200']).toBe(run.granted - (expired - run.expiredWaiting));
  });

  it('ends each expired call exactly when its TTL passes: none early, none late', () => {
    expect(run.early).toBe(0);
    expect(run.late).toBe(0);
    const expired = run.endTimes.find((d) => d.label === '412 GW_ERR_REQUEST_TTL_EXPIRED');
    expect(expired?.count).toBe(run.outcomes['412 GW_ERR_REQUEST_TTL_EXPIRED']);
    expect(expired?.maxMs).toBe(o.ttlSeconds * 1000);
    expect(expired?.p50Ms).toBe(o.ttlSeconds * 1000);
  });

  it('leaves nothing behind: the scheduler is empty and the heap returns near its baseline', () => {
    expect(run.after).toEqual({ waiting: 0, leases: 0, gateWaiters: 0, storedItems: 0 });
    expect(run.heapAfterBytes - run.heapBaselineBytes).toBeLessThan(o.maxHeapGrowthBytes);
    expect(run.priorityInversions).toBe(0);
  });
});
