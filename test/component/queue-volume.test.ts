import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_VOLUME,
  formatVolume,
  runQueueVolume,
  type VolumeResult,
} from '../../simulator/saturation/queue-volume.js';

// 10,000 calls through runtime.gateway.handle into a pool of capacity 1 (backend 50 ms), x-gateway-ttl 2 s,
// maxQueueDepth 10,000: about 30 are served, the rest wait and expire. `node dist/simulator/saturation/main.js`
// prints the same figures.
describe('10,000 queued requests', () => {
  let run: VolumeResult;
  const o = DEFAULT_VOLUME;
  beforeAll(async () => {
    run = await runQueueVolume(o);
    console.log(formatVolume(run));
  }, 60_000);

  it('queues them all (the queue is deep enough) and serves calls while they wait', () => {
    expect(run.queued.waiting).toBeGreaterThanOrEqual(o.calls - 1);
    expect(run.outcomes['200']).toBeGreaterThan(0);
  });

  it('answers every call with 200, 412 GW_ERR_REQUEST_TTL_EXPIRED or 429 GW_ERR_QUEUE_FULL', () => {
    const total = Object.values(run.outcomes).reduce((a, b) => a + b, 0);
    expect(total).toBe(o.calls);
    expect(
      Object.keys(run.outcomes).filter((k) => !/^(200|412 GW_ERR_REQUEST_TTL_EXPIRED|429 GW_ERR_QUEUE_FULL)$/.test(k)),
    ).toEqual([]);
  });

  it('ends each call within its TTL plus a margin', () => {
    expect(run.late).toBe(0);
    for (const d of run.endTimes) expect(d.maxMs, d.label).toBeLessThanOrEqual(o.ttlSeconds * 1000 + o.marginMs);
  });

  it('leaves nothing behind: the scheduler is empty and the heap returns near its baseline', () => {
    expect(run.after).toEqual({ waiting: 0, leases: 0, gateWaiters: 0, storedItems: 0 });
    expect(run.heapAfterBytes - run.heapBaselineBytes).toBeLessThan(o.maxHeapGrowthBytes);
    expect(run.priorityInversions).toBe(0);
  });
});
