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
  /**
   * The visibility timeout the suite uses (default 30,000 ms). An adapter whose time passes for real
   * (Azurite, a live queue) uses a short one; every other duration of the suite is a fraction of it.
   */
  readonly visibilityMs?: number;
  /**
   * Slack added past a deadline before checking it passed (default 1,000 ms; a queue with second granularity needs
   * more).
   */
  readonly marginMs?: number;
}

/** Options the contract asks the factory for. */
export interface JobQueueContractOptions {
  /** Deliveries after which a message is dead-lettered instead of delivered again. */
  readonly maxDeliveries: number;
}

/**
 * The behaviour every {@link JobQueue} adapter must have. The factory must return a fresh, empty queue
 * each time, configured with `options.maxDeliveries`. Visibility timeouts used here are the harness's
 * `visibilityMs` (30 s by default); the other durations are fractions of it: a delayed retry a third, a
 * scheduled message a sixth, a renewal at two thirds.
 *
 * @example
 * describeJobQueueContract('MemoryJobQueue', ({ maxDeliveries }) => {
 *   const clock = new FakeClock();
 *   return {
 *     queue: new MemoryJobQueue({ clock, maxDeliveries }),
 *     now: () => clock.now(),
 *     advanceMs: async (ms) => clock.advance(ms),
 *   };
 * });
 */
export function describeJobQueueContract(
  name: string,
  factory: (options: JobQueueContractOptions) => JobQueueHarness | Promise<JobQueueHarness>,
): void {
  const message = (jobId: string, enqueuedAtMs = 1): JobMessage => ({
    v: 1,
    jobId,
    requestId: `req-${jobId}`,
    enqueuedAtMs,
  });

  const make = async (options: JobQueueContractOptions) => {
    const harness = await factory(options);
    const visibilityMs = harness.visibilityMs ?? 30_000;
    const marginMs = harness.marginMs ?? 1_000;
    return {
      ...harness,
      visibilityMs,
      marginMs,
      /** Past the visibility timeout of a message received now. */
      afterVisibility: () => harness.advanceMs(visibilityMs + marginMs),
    };
  };

  describe(`JobQueue contract: ${name}`, () => {
    it('delivers a sent message once with deliveryCount 1 and hides it while locked', async () => {
      const { queue, now, visibilityMs, marginMs } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first, ...rest] = await queue.receive(10, visibilityMs);
      expect(rest).toEqual([]);
      expect(first?.message).toEqual(message('a'));
      expect(first?.deliveryCount).toBe(1);
      expect(first?.lockToken).toEqual(expect.any(String));
      expect(first?.lockedUntilMs).toBeGreaterThanOrEqual(now() + visibilityMs - marginMs);
      expect(await queue.receive(10, visibilityMs)).toEqual([]);
    });

    it('answers an empty list at once when nothing is visible', async () => {
      const { queue, visibilityMs } = await make({ maxDeliveries: 5 });
      expect(await queue.receive(5, visibilityMs)).toEqual([]);
    });

    it('receives at most maxMessages, oldest first', async () => {
      const { queue, visibilityMs } = await make({ maxDeliveries: 5 });
      for (const id of ['a', 'b', 'c']) await queue.send(message(id));
      const first = await queue.receive(2, visibilityMs);
      expect(first.map((d) => d.message.jobId)).toEqual(['a', 'b']);
      const second = await queue.receive(2, visibilityMs);
      expect(second.map((d) => d.message.jobId)).toEqual(['c']);
    });

    it('removes a completed message for good', async () => {
      const { queue, visibilityMs, afterVisibility } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      expect(await queue.complete(delivery!.lockToken)).toBe(true);
      await afterVisibility();
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
    });

    it('redelivers an unsettled message after its visibility timeout with deliveryCount + 1', async () => {
      const { queue, visibilityMs, afterVisibility } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      await afterVisibility();
      const [second] = await queue.receive(1, visibilityMs);
      expect(second?.message.jobId).toBe('a');
      expect(second?.deliveryCount).toBe(2);
      expect(second?.lockToken).not.toBe(first?.lockToken);
      expect(await queue.complete(first!.lockToken)).toBe(false);
      expect(await queue.complete(second!.lockToken)).toBe(true);
    });

    it('redelivers an abandoned message at once with deliveryCount + 1', async () => {
      const { queue, visibilityMs } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      expect(await queue.abandon(first!.lockToken)).toBe(true);
      const [second] = await queue.receive(1, visibilityMs);
      expect(second?.deliveryCount).toBe(2);
    });

    it('holds an abandoned message back for retryAfterMs', async () => {
      const { queue, advanceMs, visibilityMs, marginMs } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [first] = await queue.receive(1, visibilityMs);
      await queue.abandon(first!.lockToken, { retryAfterMs: visibilityMs / 3 });
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      await advanceMs(visibilityMs / 3 + marginMs);
      expect((await queue.receive(1, visibilityMs))[0]?.deliveryCount).toBe(2);
    });

    it('extends a lock with renewLock so the message is not redelivered', async () => {
      const { queue, advanceMs, now, visibilityMs, marginMs } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      await advanceMs((visibilityMs * 2) / 3);
      const until = await queue.renewLock(delivery!.lockToken, visibilityMs);
      expect(until).toBeGreaterThanOrEqual(now() + visibilityMs - marginMs);
      await advanceMs((visibilityMs * 2) / 3);
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      expect(await queue.complete(delivery!.lockToken)).toBe(true);
    });

    it('cannot renew or settle a lock that was lost', async () => {
      const { queue, visibilityMs, afterVisibility } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      await afterVisibility();
      expect(await queue.renewLock(delivery!.lockToken, visibilityMs)).toBeUndefined();
      expect(await queue.abandon(delivery!.lockToken)).toBe(false);
      expect(await queue.deadLetter(delivery!.lockToken, 'x')).toBe(false);
    });

    it('dead-letters on request, with the reason, and never delivers again', async () => {
      const { queue, visibilityMs, afterVisibility } = await make({ maxDeliveries: 5 });
      await queue.send(message('a'));
      const [delivery] = await queue.receive(1, visibilityMs);
      expect(await queue.deadLetter(delivery!.lockToken, 'JOB_DELIVERIES_EXHAUSTED')).toBe(true);
      await afterVisibility();
      expect(await queue.receive(1, visibilityMs)).toEqual([]);
      const dead = await queue.peekDeadLetters(10);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ message: { jobId: 'a' }, deliveryCount: 1, reason: 'JOB_DELIVERIES_EXHAUSTED' });
    });

    it('dead-letters a message after maxDeliveries unsettled deliveries', async () => {
      const { queue, visibilityMs, afterVisibility } = await make({ maxDeliveries: 3 });
      await queue.send(message('a'));
      const counts: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [delivery] = await queue.receive(1, visibilityMs);
        if (delivery === undefined) break;
        counts.push(delivery.deliveryCount);
        await afterVisibility();
      }
      expect(counts).toEqual([1, 2, 3]);
      const dead = await queue.peekDeadLetters(10);
      expect(dead.map((d) => d.message.jobId)).toEqual(['a']);
      expect(dead[0]?.deliveryCount).toBe(3);
    });

    it('holds a scheduled message until deliverAtMs', async () => {
      const { queue, advanceMs, now, visibilityMs, marginMs } = await make({ maxDeliveries: 5 });
      await queue.send(message('later'), { deliverAtMs: now() + visibilityMs / 6 });
      await queue.send(message('now'));
      expect((await queue.receive(10, visibilityMs)).map((d) => d.message.jobId)).toEqual(['now']);
      await advanceMs(visibilityMs / 6 + marginMs);
      expect((await queue.receive(10, visibilityMs)).map((d) => d.message.jobId)).toEqual(['later']);
    });

    it('delivers a message to only one of several concurrent receivers', async () => {
      const { queue, visibilityMs } = await make({ maxDeliveries: 5 });
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
