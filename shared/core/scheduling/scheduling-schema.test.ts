import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { PriorityScheduler } from './priority-scheduler.js';
import { schedulingSchema } from '../../config/scheduling-schema.js';

describe('schedulingSchema', () => {
  it('fills every default from an empty section', () => {
    expect(schedulingSchema.parse({})).toEqual({
      levels: 3,
      defaultLevel: 2,
      agingStepMs: 30_000,
      userShareRatio: 0.25,
      leaseTtlMs: 600_000,
      maxQueueDepth: 1_000,
      retryAfterMs: 1_000,
      maxRetryAfterMs: 60_000,
      estimateRetryAfter: true,
      perLevel: {},
      sharing: {
        enabled: true,
        reportIntervalMs: 1_000,
        heartbeatMs: 5_000,
        instanceStaleMs: 15_000,
        reportsPerSecond: 32,
        headroomRatio: 0.5,
        whenUnreachable: 'keep-even-share',
      },
    });
  });

  it('accepts a spill policy and builds a scheduler from the parsed value', () => {
    const config = schedulingSchema.parse({
      perLevel: { '1': { reservedSlots: 2 }, '3': { groups: { ptu: 0, '*': 60_000 } } },
    });
    expect(() => new PriorityScheduler({ clock: new FakeClock(), options: config })).not.toThrow();
  });

  it('reports every problem at once', () => {
    const result = schedulingSchema.safeParse({
      levels: 2,
      defaultLevel: 3,
      userShareRatio: 0,
      perLevel: { '5': {}, x: {} },
      unknown: 1,
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['userShareRatio', 'perLevel.x', '']));
  });

  it('rejects levels and per-level keys that do not fit together', () => {
    const result = schedulingSchema.safeParse({ levels: 2, defaultLevel: 3, perLevel: { '5': {} } });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['defaultLevel', 'perLevel.5']);
  });
});
