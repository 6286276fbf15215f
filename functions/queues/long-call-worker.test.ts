import { InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FunctionsHost } from '../bridge/runtime.js';
import { setFunctionsHost } from '../bridge/runtime.js';
import type { JobSettlement } from '../../shared/core/jobs/job-worker.js';
import { AbandonMessage, longCallWorker } from './long-call-worker.js';

const MESSAGE = { v: 1, jobId: 'job-1', requestId: 'req-1', enqueuedAtMs: 1 };

function fakeHost(settlement: JobSettlement, status: string) {
  const calls = {
    handleMessage: vi.fn(async () => settlement),
    reschedule: vi.fn(async () => undefined),
    jobFinished: vi.fn(async () => undefined),
  };
  const host = {
    runtime: { jobs: { worker: { handleMessage: calls.handleMessage } } },
    jobStore: { get: async () => ({ id: 'job-1', status }) },
    reschedule: calls.reschedule,
    durable: { remember: () => undefined, jobFinished: calls.jobFinished },
  } as unknown as FunctionsHost;
  setFunctionsHost(host);
  return calls;
}

const context = (deliveryCount: number, prior?: number) =>
  new InvocationContext({
    functionName: 'longCallWorker',
    logHandler: () => undefined,
    triggerMetadata: {
      deliveryCount,
      messageId: 'job-1',
      applicationProperties: prior === undefined ? {} : { gwPriorDeliveries: prior },
    },
  });

afterEach(() => setFunctionsHost(undefined));

describe('longCallWorker', () => {
  it('completes (returns) a finished job and raises the completion event', async () => {
    const calls = fakeHost({ action: 'complete', reason: 'succeeded' }, 'succeeded');
    await longCallWorker(MESSAGE, context(1));
    expect(calls.handleMessage).toHaveBeenCalledWith(MESSAGE, 1, expect.any(AbortSignal));
    expect(calls.jobFinished).toHaveBeenCalledWith('job-1', 'succeeded');
  });

  it('counts the deliveries of re-scheduled copies', async () => {
    const calls = fakeHost({ action: 'complete', reason: 'duplicate delivery: job already succeeded' }, 'succeeded');
    await longCallWorker(MESSAGE, context(2, 3));
    expect(calls.handleMessage).toHaveBeenCalledWith(MESSAGE, 5, expect.any(AbortSignal));
  });

  it('reads a Storage queue delivery: dequeueCount plus the deliveries the copy carries in its body', async () => {
    const calls = fakeHost({ action: 'complete', reason: 'succeeded' }, 'succeeded');
    const copy = { ...MESSAGE, gwPriorDeliveries: 2 };
    await longCallWorker(
      copy,
      new InvocationContext({
        functionName: 'longCallWorker',
        logHandler: () => undefined,
        triggerMetadata: { dequeueCount: 1, id: 'm-1', popReceipt: 'p' },
      }),
    );
    expect(calls.handleMessage).toHaveBeenCalledWith(copy, 3, expect.any(AbortSignal));
  });

  it('re-schedules a delayed retry (copy first, then complete) and raises no event for a queued job', async () => {
    const calls = fakeHost(
      { action: 'abandon', retryAfterMs: 4_000, reason: 'attempt failed: GW_ERR_BACKEND_THROTTLED' },
      'queued',
    );
    await longCallWorker(MESSAGE, context(2));
    expect(calls.reschedule).toHaveBeenCalledWith(MESSAGE, 2, expect.any(Number));
    expect(calls.jobFinished).not.toHaveBeenCalled();
  });

  it('throws so the host abandons for an immediate redelivery', async () => {
    fakeHost({ action: 'abandon', retryAfterMs: 0, reason: 'lost a race on a queued job' }, 'queued');
    await expect(longCallWorker(MESSAGE, context(1))).rejects.toBeInstanceOf(AbandonMessage);
  });

  it('throws on dead-letter (at MaxDeliveryCount) after telling the orchestration the job failed', async () => {
    const calls = fakeHost(
      { action: 'dead-letter', reason: 'JOB_DELIVERIES_EXHAUSTED: GW_ERR_BACKEND_THROTTLED' },
      'failed',
    );
    await expect(longCallWorker(MESSAGE, context(5))).rejects.toThrow(/dead-letter: JOB_DELIVERIES_EXHAUSTED/);
    expect(calls.jobFinished).toHaveBeenCalledWith('job-1', 'failed');
  });
});
