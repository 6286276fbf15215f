import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../../adapters/memory/memory-payload-store.js';
import type { JobRecord } from '../../ports/job-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { JobRunLease } from './job-run-lease.js';
import { JobSignals } from './job-signals.js';
import { workerContext } from './job-worker-context.js';
import { ManualTimers } from './test-support/manual-timers.js';

const LEASE_MS = 60_000;

async function setUp(deadlineInMs = 600_000) {
  const clock = new FakeClock();
  const timers = new ManualTimers(clock);
  const jobs = new MemoryJobStore();
  const signals = new JobSignals();
  const ctx = workerContext(
    {
      jobs,
      payloads: new MemoryPayloadStore(),
      clock,
      signals,
      setTimer: timers.setTimer,
      execute: () => Promise.reject(new Error('not run here')),
    },
    { leaseMs: LEASE_MS },
  );
  const now = clock.now();
  await jobs.create({
    id: 'job_1',
    requestId: 'req_1',
    owner: { userId: 'key:alice', profileId: 'batch', appId: 'app-1' },
    status: 'running',
    createdAtMs: now,
    updatedAtMs: now,
    expiresAtMs: now + 86_400_000,
    deadlineMs: now + deadlineInMs,
    runningUntilMs: now + LEASE_MS,
    attempts: 1,
    routeId: 'chat',
    priority: 3,
    retentionMs: 3_600_000,
    version: 0,
  } as JobRecord);
  const job = (await jobs.get('job_1'))!;
  return { clock, timers, jobs, signals, ctx, job };
}

describe('JobRunLease', () => {
  it('renews the lease every half lease, holding the version each renewal wrote', async () => {
    const { clock, timers, jobs, ctx, job } = await setUp();
    const lease = new JobRunLease(ctx, job, undefined);
    await timers.advance(LEASE_MS / 2);
    await timers.advance(LEASE_MS / 2);
    const record = (await jobs.get(job.id))!;
    expect(record.runningUntilMs).toBe(clock.now() + LEASE_MS);
    expect(lease.version).toBe(record.version);
    expect(record.version).toBe(job.version + 2);
    expect(lease.signal.aborted).toBe(false);
    lease.dispose();
    expect(timers.pending).toBe(0);
  });

  it('stops the run when a renewal finds the job moved on (cancelled, taken over, swept)', async () => {
    const { timers, jobs, ctx, job } = await setUp();
    const lease = new JobRunLease(ctx, job, undefined);
    await jobs.transition(job.id, ['running'], { status: 'cancelled', updatedAtMs: job.updatedAtMs });
    await timers.advance(LEASE_MS / 2);
    expect(lease.abortCause).toBe('lease-lost');
    expect((lease.signal.reason as GatewayError).code).toBe('GW_ERR_REQUEST_CLIENT_CLOSED');
    lease.dispose();
  });

  it('stops the run at its deadline, and the first cause wins', async () => {
    const { timers, ctx, job } = await setUp(10_000);
    const host = new AbortController();
    const lease = new JobRunLease(ctx, job, host.signal);
    await timers.advance(10_000);
    host.abort();
    expect(lease.abortCause).toBe('deadline');
    expect((lease.signal.reason as GatewayError).code).toBe('GW_ERR_BACKEND_TIMEOUT');
    lease.dispose();
  });

  it("stops the run on the host's shutdown, even one that came before the run", async () => {
    const { ctx, job } = await setUp();
    const lease = new JobRunLease(ctx, job, AbortSignal.abort());
    expect(lease.abortCause).toBe('shutdown');
    expect((lease.signal.reason as GatewayError).code).toBe('GW_ERR_SERVICE_SHUTTING_DOWN');
    lease.dispose();
  });

  it("is the job's run in this process until disposed (cancellation reaches it)", async () => {
    const { signals, ctx, job } = await setUp();
    const lease = new JobRunLease(ctx, job, undefined);
    expect(signals.abortRun(job.id, 'cancelled')).toBe(true);
    expect(lease.signal.reason).toBe('cancelled');
    lease.dispose();
    expect(signals.abortRun(job.id, 'again')).toBe(false);
  });

  it('renews no more once the heartbeat stopped', async () => {
    const { timers, jobs, ctx, job } = await setUp();
    const lease = new JobRunLease(ctx, job, undefined);
    await lease.stopHeartbeat();
    await timers.advance(LEASE_MS);
    expect((await jobs.get(job.id))!.version).toBe(job.version);
    lease.dispose();
  });
});
