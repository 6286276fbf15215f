import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { describeJobQueueContract } from '../../ports/job-queue.contract.js';
import { MemoryJobQueue } from './memory-job-queue.js';

describeJobQueueContract('MemoryJobQueue', ({ maxDeliveries }) => {
  const clock = new FakeClock();
  return {
    queue: new MemoryJobQueue({ clock, maxDeliveries }),
    now: () => clock.now(),
    advanceMs: async (ms) => clock.advance(ms),
  };
});

describe('MemoryJobQueue', () => {
  it('refuses to send beyond maxMessages', async () => {
    const queue = new MemoryJobQueue({ clock: new FakeClock(), maxMessages: 1 });
    await queue.send({ v: 1, jobId: 'a', enqueuedAtMs: 1 });
    await expect(queue.send({ v: 1, jobId: 'b', enqueuedAtMs: 1 })).rejects.toThrow('holds 1 messages');
    expect(queue.depth).toBe(1);
  });
});
