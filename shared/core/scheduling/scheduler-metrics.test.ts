import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { PriorityScheduler } from './priority-scheduler.js';
import { reportSchedulerMetrics, reportSharingMetrics } from './scheduler-metrics.js';

describe('reportSchedulerMetrics', () => {
  it('reports waiting, oldest wait and leases per level and capacity per group', () => {
    const clock = new FakeClock();
    const scheduler = new PriorityScheduler({ clock });
    scheduler.setCapacity('p', [{ groupId: 'ptu', capacity: 1 }]);
    scheduler.enqueue({ requestId: 'r1', poolId: 'p', priority: 1, userId: 'u', deadlineMs: clock.now() + 60_000 });
    scheduler.enqueue({ requestId: 'r2', poolId: 'p', priority: 3, userId: 'u', deadlineMs: clock.now() + 60_000 });
    clock.advance(250);
    const metrics: { name: string; value: number; dims?: Record<string, string> }[] = [];
    const telemetry: Telemetry = {
      event: () => undefined,
      metric: (name, value, dims) => void metrics.push({ name, value, dims: dims as Record<string, string> }),
      dependency: () => undefined,
      exception: () => undefined,
      flush: async () => undefined,
    };
    reportSchedulerMetrics(telemetry, scheduler.stats());
    expect(metrics).toContainEqual({ name: 'gateway.scheduler.waiting', value: 1, dims: { pool: 'p', level: '3' } });
    expect(metrics).toContainEqual({
      name: 'gateway.scheduler.oldest_wait_ms',
      value: 250,
      dims: { pool: 'p', level: '3' },
    });
    expect(metrics).toContainEqual({ name: 'gateway.scheduler.leases', value: 1, dims: { pool: 'p', level: '1' } });
    expect(metrics).toContainEqual({ name: 'gateway.scheduler.capacity', value: 1, dims: { pool: 'p', group: 'ptu' } });
    expect(metrics.find((m) => m.name === 'gateway.scheduler.total.priorityInversions')?.value).toBe(0);
  });
});

describe('reportSharingMetrics', () => {
  it('reports instances, grant, reachability and failed reports per pool', () => {
    const metrics: { name: string; value: number; dims?: Record<string, string> }[] = [];
    const telemetry: Telemetry = {
      event: () => undefined,
      metric: (name, value, dims) => void metrics.push({ name, value, dims: dims as Record<string, string> }),
      dependency: () => undefined,
      exception: () => undefined,
      flush: async () => undefined,
    };
    reportSharingMetrics(telemetry, [
      {
        poolId: 'p',
        state: 'unreachable',
        enforced: [{ groupId: 'ptu', capacity: 2 }],
        grant: [{ groupId: 'ptu', capacity: 3 }],
        instances: 4,
        reports: 9,
        failures: 2,
        lastReason: 'heartbeat',
        lastReportAtMs: 1,
        intervalMs: 1_000,
      },
    ]);
    expect(metrics).toEqual([
      { name: 'gateway.capacity.instances', value: 4, dims: { pool: 'p' } },
      { name: 'gateway.capacity.grant', value: 3, dims: { pool: 'p' } },
      { name: 'gateway.capacity.unreachable', value: 1, dims: { pool: 'p' } },
      { name: 'gateway.capacity.failed_reports', value: 2, dims: { pool: 'p' } },
    ]);
  });
});
