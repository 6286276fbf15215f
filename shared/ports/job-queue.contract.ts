import { describe, expect, it } from 'vitest';
import type { JobMessage, JobQueue } from './job-queue.js';

/** What {@link describeJobQueueContract} needs from an adapter under test. */
export interface JobQueueHarness {
  readonly queue: JobQueue;
  /** The queue's notion of now (epoch ms). */
  now(): number;
  /**
   * Lets `ms` of queue time pass: the memory adapter advances its fake clock; an adapter whose clock
   * cannot be injected (Service Bus) waits for real, so its harness should use short timeouts.
   */
  advanceMs(ms: number): Promise<void>;
}

/** Options the contract asks the factory for. */
export interface JobQueueContractOptions {
  /** Deliveries after which a message is dead-lettered instead of delivered again. */
  readonly maxDeliveries: number;
}

/**
 * The behaviour every {@link JobQueue} adapter must have. The factory must return a fresh, empty queue
 * each time, configured with `options.maxDeliveries`. Visibility timeouts used here are 30 s.
 *
 * @example
 * describeJobQueueContract('MemoryJobQueue', ({ maxDeliveries }) => {
 *   const clock = new FakeClock();
 *   return { queue: new MemoryJobQueue({ clock, maxDeliveries }), now: () => clock.now(), advanceMs: async (ms) => clock.advance(ms) };
 * });
 */
export function describeJobQueueContract(
  name: string,
  factory: (options: JobQueueContractOptions) => JobQueueHarness | Promise<JobQueueHarness>,
): void {
  const visibilityMs = 30_000;
  const message = (jobId: string, enqueuedAtMs = 1): JobMessage => ({
    v: 1,
    jobId,
    requestId: `req-${jobId}`,
    enqueuedAtMs,
  });

  describe(`JobQueue contract: ${name}`, () => {
    it('delivers a sent message once with deliveryCount 1 and hides it while locked', async () => {
      const { queue, now } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first, ...rest] = await queue.receive(10, visibilityMs);
      expect(rest).toEqual([]);
      expect(first?.message).toEqual(message('a'));
      expect(first?.deliveryCount).toBe(1);
      expect(first?.lockToken).toEqual(expect.any(String));
      expect(first?.lockedUntilMs).toBeGreaterThanOrEqual(now() + visibilityMs - 1_000);
      expect(await queue.receive(10, visibilityMs)).toEqual([]);
    });

    it('answers an empty list at once when nothing is visible', async () => {
      const { queue } = await factory({ maxDeliveries: 5 });
      expect(await queue.receive(5, visibilityMs)).toEqual([]);
    });

    it('receives at most maxMessages, oldest first', async () => {
      const { queue } = await factory({ maxDeliveries: 5 });
      for (const id of ['a', 'b', 'c']) await queue.send(message(id));
      const first = await queue.receive(2, visibilityMs);
      expect(first.map((d) => d.message.jobId)).toEqual(['a', 'b']);
      const second = await queue.receive(2, visibilityMs);
      expect(second.map((d) => d.message.jobId)).toEqual(['c']);
    });

    it('removes a completed message for good', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      expect(await queue.complete(delivery!.lockToken)).toBe(true);
      await advanceMs(visibilityMs + 1_000);
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
    });

    it('redelivers an unsettled message after its visibility timeout with deliveryCount + 1', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      await advanceMs(visibilityMs + 1_000);
      const [second] = await queue.receive(1, visibilityMs);
      expect(second?.message.jobId).toBe('a');
      expect(second?.deliveryCount).toBe(2);
      expect(second?.lockToken).not.toBe(first?.lockToken);
      expect(await queue.complete(first!.lockToken)).toBe(false);
      expect(await queue.complete(second!.lockToken)).toBe(true);
    });

    it('redelivers an abandoned message at once with deliveryCount + 1', async () => {
      const { queue } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      expect(await queue.abandon(first!.lockToken)).toBe(true);
      const [second] = await queue.receive(1, visibilityMs);
      expect(second?.deliveryCount).toBe(2);
    });

    it('holds an abandoned message back for retryAfterMs', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      await queue.abandon(first!.lockToken, { retryAfterMs: 10_000 });
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      await advanceMs(11_000);
      expect((await queue.receive(1, visibilityMs))[0]?.deliveryCount).toBe(2);
    });

    it('extends a lock with renewLock so the message is not redelivered', async () => {
      const { queue, advanceMs, now } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      await advanceMs(20_000);
      const until = await queue.renewLock(delivery!.lockToken, visibilityMs);
      expect(until).toBeGreaterThanOrEqual(now() + visibilityMs - 1_000);
      await advanceMs(20_000);
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      expect(await queue.complete(delivery!.lockToken)).toBe(true);
    });

    it('cannot renew or settle a lock that was lost', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      await advanceMs(visibilityMs + 1_000);
      expect(await queue.renewLock(delivery!.lockToken, visibilityMs)).toBeUndefined();
      expect(await queue.abandon(delivery!.lockToken)).toBe(false);
      expect(await queue.deadLetter(delivery!.lockToken, 'x')).toBe(false);
    });

    it('dead-letters on request, with the reason, and never delivers again', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      expect(await queue.deadLetter(delivery!.lockToken, 'JOB_DELIVERIES_EXHAUSTED')).toBe(true);
      await advanceMs(visibilityMs + 1_000);
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      const dead = await queue.peekDeadLetters(10);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ message: { jobId: 'a' }, deliveryCount: 1, reason: 'JOB_DELIVERIES_EXHAUSTED' });
    });

    it('dead-letters a message after maxDeliveries unsettled deliveries', async () => {
      const { queue, advanceMs } = await factory({ maxDeliveries: 3 });
      await queue.send(message('a'));
      const counts: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [delivery] = await queue.receive(1, visibilityMs);
        if (delivery === undefined) break;
        counts.push(delivery.deliveryCount);
        await advanceMs(visibilityMs + 1_000);
      }
      expect(counts).toEqual([1, 2, 3]);
      const dead = await queue.peekDeadLetters(10);
      expect(dead.map((d) => d.message.jobId)).toEqual(['a']);
      expect(dead[0]?.deliveryCount).toBe(3);
    });

    it('holds a scheduled message until deliverAtMs', async () => {
      const { queue, advanceMs, now } = await factory({ maxDeliveries: 5 });
      await queue.send(message('later'), { deliverAtMs: now() + 5_000 });
      await queue.send(message('now'));
      expect((await queue.receive(10, visibilityMs)).map((d) => d.message.jobId)).toEqual(['now']);
      await advanceMs(6_000);
      expect((await queue.receive(10, visibilityMs)).map((d) => d.message.jobId)).toEqual(['later']);
    });

    it('delivers a message to only one of several concurrent receivers', async () => {
      const { queue } = await factory({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const results = await Promise.all([
        queue.receive(1, visibilityMs),
        queue.receive(1, visibilityMs),
        queue.receive(1, visibilityMs),
      ]);
      expect(results.flat()).toHaveLength(1);
    });
  });
}
