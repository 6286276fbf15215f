import { describe, expect, it } from 'vitest';
import { MemoryJobQueue } from '../../adapters/memory/memory-job-queue.js';
import { MemoryJobStore } from '../../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../../adapters/memory/memory-payload-store.js';
import type { JobRecord } from '../../ports/job-store.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { waitForFinish } from './job-finish-wait.js';
import { jobServiceContext } from './job-service-context.js';
import { ManualTimers } from './test-support/manual-timers.js';

async function setUp(pollStoreWhileWaiting: boolean) {
  const clock = new FakeClock();
  const timers = new ManualTimers(clock);
  const jobs = new MemoryJobStore();
  const ctx = jobServiceContext(
    {
      jobs,
      payloads: new MemoryPayloadStore(),
      queue: new MemoryJobQueue({ clock, maxDeliveries: 5 }),
      clock,
      setTimer: timers.setTimer,
    },
    { pollStoreWhileWaiting },
  );
  const now = clock.now();
  const job = await jobs.create({
    id: 'job_1',
    requestId: 'req_1',
    owner: { userId: 'key:alice' },
    status: 'running',
    createdAtMs: now,
    updatedAtMs: now,
    expiresAtMs: now + 86_400_000,
    deadlineMs: now + 600_000,
    attempts: 1,
    routeId: 'chat',
    priority: 3,
    retentionMs: 3_600_000,
    version: 0,
  } as JobRecord);
  const finishElsewhere = () =>
    jobs.transition(job.id, ['running'], { status: 'succeeded', updatedAtMs: clock.now(), finishedAtMs: clock.now() });
  return { clock, timers, jobs, ctx, job, finishElsewhere };
}

describe('waitForFinish', () => {
  it('resolves the record when this process reports the job finished', async () => {
    const { timers, ctx, job } = await setUp(false);
    const waiting = waitForFinish(ctx, job.id, 10_000, undefined);
    const finished = { ...job, status: 'succeeded' as const };
    ctx.signals.finished(finished);
    expect(await waiting.promise).toBe(finished);
    expect(timers.pending).toBe(0);
  });

  it('resolves undefined at the sync-wait mark, and when the caller leaves', async () => {
    const { timers, ctx, job } = await setUp(false);
    const atMark = waitForFinish(ctx, job.id, 10_000, undefined);
    await timers.advance(10_000);
    expect(await atMark.promise).toBeUndefined();
    const caller = new AbortController();
    const left = waitForFinish(ctx, job.id, 10_000, caller.signal);
    caller.abort();
    expect(await left.promise).toBeUndefined();
    expect(timers.pending).toBe(0);
  });

  it('polls the store, backing off from 250 ms to 1 s, for a job that finished in another process', async () => {
    const { timers, jobs, ctx, job, finishElsewhere } = await setUp(true);
    const reads: number[] = [];
    const get = jobs.get.bind(jobs);
    jobs.get = (id) => {
      reads.push(timers.clock.now());
      return get(id);
    };
    const start = timers.clock.now();
    const waiting = waitForFinish(ctx, job.id, 10_000, undefined);
    await timers.advance(250 + 500 + 1_000 + 1_000);
    expect(reads.map((at) => at - start)).toEqual([250, 750, 1_750, 2_750]);
    await finishElsewhere();
    await timers.advance(1_000);
    expect((await waiting.promise)?.status).toBe('succeeded');
    expect(timers.pending).toBe(0);
  });

  it('never reads the store without pollStoreWhileWaiting', async () => {
    const { timers, jobs, ctx, job, finishElsewhere } = await setUp(false);
    let reads = 0;
    const get = jobs.get.bind(jobs);
    jobs.get = (id) => {
      reads++;
      return get(id);
    };
    const waiting = waitForFinish(ctx, job.id, 5_000, undefined);
    await finishElsewhere();
    await timers.advance(5_000);
    expect(await waiting.promise).toBeUndefined();
    expect(reads).toBe(0);
  });
});
