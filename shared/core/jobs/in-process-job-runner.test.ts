import { describe, expect, it } from 'vitest';
import { createInProcessJobRunner } from './in-process-job-runner.js';
import { createJobsHarness, jsonResponse, submission } from './test-support/jobs-harness.js';
import { settle } from './test-support/manual-timers.js';

describe('in-process job runner', () => {
  it('runs at most `concurrency` jobs at once and picks up the next when one finishes', async () => {
    const h = createJobsHarness();
    const runner = createInProcessJobRunner({
      queue: h.queue,
      worker: h.worker,
      signals: h.signals,
      setTimer: h.timers.setTimer,
      concurrency: 2,
      visibilityTimeoutMs: 60_000,
      pollIntervalMs: 1_000,
    });
    runner.start();
    for (let i = 0; i < 3; i++) await h.service.submit(submission());
    const first = await h.nextCall();
    await h.nextCall();
    await settle();
    expect(h.calls).toHaveLength(2);
    expect(runner.active).toBe(2);
    const third = h.nextCall();
    first.resolve(jsonResponse(200, {}));
    await third;
    expect(h.calls).toHaveLength(3);
    await runner.stop();
  });

  it('keeps renewing the message lock of a long job so it is not redelivered', async () => {
    const h = createJobsHarness();
    const settled: string[] = [];
    const runner = createInProcessJobRunner({
      queue: h.queue,
      worker: h.worker,
      signals: h.signals,
      setTimer: h.timers.setTimer,
      concurrency: 1,
      visibilityTimeoutMs: 60_000,
      pollIntervalMs: 1_000,
      onSettled: (_, s) => settled.push(s.action),
    });
    runner.start();
    await h.service.submit(submission());
    const call = await h.nextCall();
    await h.timers.advance(15 * 60_000);
    expect(h.calls).toHaveLength(1);
    call.resolve(jsonResponse(200, {}));
    await h.timers.advance(1);
    expect(settled).toEqual(['complete']);
    expect(h.queue.depth).toBe(0);
    await runner.stop();
  });

  it('backs off polling an empty queue up to pollIntervalMs', async () => {
    const h = createJobsHarness();
    let receives = 0;
    const receive = h.queue.receive.bind(h.queue);
    h.queue.receive = async (max, visibility) => {
      receives++;
      return receive(max, visibility);
    };
    const runner = createInProcessJobRunner({
      queue: h.queue,
      worker: h.worker,
      setTimer: h.timers.setTimer,
      concurrency: 1,
      visibilityTimeoutMs: 60_000,
      pollIntervalMs: 1_000,
      minPollIntervalMs: 100,
    });
    runner.start();
    await h.timers.advance(10_000);
    // 100, 200, 400, 800, then every 1 000 ms: 1 + 4 + 8 polls in 10 s, not 100.
    expect(receives).toBeGreaterThanOrEqual(12);
    expect(receives).toBeLessThanOrEqual(14);
    await runner.stop();
  });
});
