import { describe, expect, it } from 'vitest';
import { asyncJobsSchema } from '../../config/jobs-schema.js';

describe('asyncJobsSchema', () => {
  it('parses {} to the seed-compatible defaults', () => {
    expect(asyncJobsSchema.parse({})).toEqual({
      enabled: true,
      syncWaitMs: 10_000,
      runDeadlineMs: 1_800_000,
      retentionMs: 86_400_000,
      maxDeliveries: 5,
      workerConcurrency: 4,
      visibilityTimeoutMs: 60_000,
      pollIntervalMs: 1_000,
      retryBackoffMs: 2_000,
      sweepIntervalMs: 300_000,
      maxQueuedBodyBytes: 256 * 1024 * 1024,
      maxQueuedBodyBytesPerCaller: 128 * 1024 * 1024,
    });
  });

  it('rejects unknown keys, a sync wait beyond the Azure 230 s response limit or past the deadline', () => {
    expect(asyncJobsSchema.safeParse({ syncWait: 1 }).success).toBe(false);
    expect(asyncJobsSchema.safeParse({ syncWaitMs: 230_000 }).success).toBe(false);
    expect(asyncJobsSchema.safeParse({ syncWaitMs: 60_000, runDeadlineMs: 30_000 }).success).toBe(false);
  });
});
