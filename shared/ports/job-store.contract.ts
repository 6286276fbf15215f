import { describe, expect, it } from 'vitest';
import type { JobRecord, JobStore } from './job-store.js';

/**
 * The behaviour every {@link JobStore} adapter must have. Run it from the adapter's test file; the
 * factory must return a fresh, empty store each time (e.g. a new Azurite table).
 *
 * @example
 * describeJobStoreContract('MemoryJobStore', () => new MemoryJobStore());
 */
export function describeJobStoreContract(name: string, factory: () => JobStore | Promise<JobStore>): void {
  let counter = 0;
  const job = (overrides: Partial<JobRecord> = {}): JobRecord => ({
    id: `job-${++counter}-${Math.random().toString(36).slice(2)}`,
    requestId: 'req-1',
    owner: { userId: 'user-1', profileId: 'batch', appId: 'app-1' },
    status: 'queued',
    createdAtMs: 1_000,
    updatedAtMs: 1_000,
    expiresAtMs: 100_000,
    deadlineMs: 50_000,
    attempts: 0,
    routeId: 'chat',
    model: 'gpt-4o',
    priority: 3,
    retentionMs: 60_000,
    version: 0,
    ...overrides,
  });

  describe(`JobStore contract: ${name}`, () => {
    it('creates a job with version 1 and reads it back', async () => {
      const store = await factory();
      const input = job();
      const created = await store.create(input);
      expect(created).toEqual({ ...input, version: 1 });
      expect(await store.get(input.id)).toEqual(created);
    });

    it('reads nothing for an unknown id', async () => {
      const store = await factory();
      expect(await store.get('nope')).toBeUndefined();
    });

    it('refuses to create a job whose id exists', async () => {
      const store = await factory();
      const input = job();
      await store.create(input);
      await expect(store.create({ ...input, priority: 1 })).rejects.toThrow();
      expect((await store.get(input.id))?.priority).toBe(3);
    });

    it('round-trips every optional field', async () => {
      const store = await factory();
      const input = job({
        status: 'succeeded',
        startedAtMs: 2_000,
        finishedAtMs: 3_000,
        runningUntilMs: 62_000,
        attempts: 2,
        lastError: { code: 'GW_ERR_UPSTREAM_TIMEOUT', message: 'slow', atMs: 1_500 },
        usage: {
          promptTokens: 12,
          completionTokens: 5,
          totalTokens: 17,
          cachedInputTokens: 0,
          cacheCreationTokens: 0,
          reasoningTokens: 0,
          servedModel: 'gpt-4o-2024-08-06',
          source: 'reported',
          promptSource: 'reported',
          completionSource: 'reported',
        },
        response: {
          status: 200,
          headers: { 'content-type': 'application/json', 'x-ms-region': 'East US' },
          bytes: 123,
        },
        cancelRequestedAtMs: 2_500,
      });
      await store.create(input);
      expect(await store.get(input.id)).toEqual({ ...input, version: 1 });
    });

    it('keeps an owner without profile or app as it was', async () => {
      const store = await factory();
      const input = job({ owner: { userId: 'anonymous' } });
      await store.create(input);
      expect((await store.get(input.id))?.owner).toEqual({ userId: 'anonymous' });
    });

    it('applies a transition from an allowed state and bumps the version', async () => {
      const store = await factory();
      const { id } = await store.create(job());
      const result = await store.transition(id, ['queued'], {
        status: 'running',
        updatedAtMs: 2_000,
        startedAtMs: 2_000,
        runningUntilMs: 32_000,
        attempts: 1,
      });
      expect(result.applied).toBe(true);
      expect(result.job).toMatchObject({
        status: 'running',
        updatedAtMs: 2_000,
        startedAtMs: 2_000,
        runningUntilMs: 32_000,
        attempts: 1,
        version: 2,
        routeId: 'chat',
      });
      expect(await store.get(id)).toEqual(result.job);
    });

    it('refuses a transition from another state and returns the current record unchanged', async () => {
      const store = await factory();
      const { id } = await store.create(job({ status: 'succeeded' }));
      const result = await store.transition(id, ['queued', 'running'], { status: 'cancelled', updatedAtMs: 2_000 });
      expect(result.applied).toBe(false);
      expect(result.job).toMatchObject({ status: 'succeeded', version: 1, updatedAtMs: 1_000 });
      expect((await store.get(id))?.status).toBe('succeeded');
    });

    it('answers applied false with no job for an unknown id', async () => {
      const store = await factory();
      expect(await store.transition('nope', ['queued'], { status: 'running', updatedAtMs: 1 })).toEqual({
        applied: false,
        job: undefined,
      });
    });

    it('honours ifVersion on a transition that keeps the status', async () => {
      const store = await factory();
      const { id } = await store.create(job({ status: 'running', runningUntilMs: 5_000 }));
      const stale = await store.transition(
        id,
        ['running'],
        { updatedAtMs: 6_000, runningUntilMs: 36_000 },
        { ifVersion: 7 },
      );
      expect(stale.applied).toBe(false);
      const fresh = await store.transition(
        id,
        ['running'],
        { updatedAtMs: 6_000, runningUntilMs: 36_000 },
        { ifVersion: 1 },
      );
      expect(fresh).toMatchObject({ applied: true, job: { runningUntilMs: 36_000, version: 2 } });
    });

    it('ignores a version in the patch and patch fields set to undefined', async () => {
      const store = await factory();
      const { id } = await store.create(job({ model: 'gpt-4o', runningUntilMs: 9 }));
      const patch = { status: 'running', updatedAtMs: 2_000, runningUntilMs: undefined, version: 99 } as const;
      const result = await store.transition(id, ['queued'], patch);
      expect(result.job).toMatchObject({ version: 2, runningUntilMs: 9, model: 'gpt-4o' });
    });

    it('lets exactly one of many concurrent transitions from the same state win', async () => {
      const store = await factory();
      const { id } = await store.create(job());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.transition(id, ['queued'], { status: 'running', updatedAtMs: 2_000 + i, attempts: 1 }),
        ),
      );
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      const final = await store.get(id);
      expect(final).toMatchObject({ status: 'running', attempts: 1, version: 2 });
      for (const loser of results.filter((r) => !r.applied)) expect(loser.job?.status).toBe('running');
    });

    it('lets exactly one of concurrent ifVersion transitions on a running job win', async () => {
      const store = await factory();
      const { id } = await store.create(job({ status: 'running', runningUntilMs: 1 }));
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.transition(id, ['running'], { updatedAtMs: 3_000, runningUntilMs: 40_000 + i }, { ifVersion: 1 }),
        ),
      );
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      expect((await store.get(id))?.version).toBe(2);
    });

    it('lists jobs whose expiresAtMs has passed, bounded by limit', async () => {
      const store = await factory();
      const a = await store.create(job({ expiresAtMs: 5_000 }));
      const b = await store.create(job({ expiresAtMs: 7_000, status: 'succeeded' }));
      await store.create(job({ expiresAtMs: 9_001 }));
      const listed = await store.listExpired(9_000, 10);
      expect(listed.map((j) => j.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.listExpired(9_000, 1)).toHaveLength(1);
      expect(await store.listExpired(4_999, 10)).toEqual([]);
    });

    it('sees a new expiresAtMs set by a transition', async () => {
      const store = await factory();
      const { id } = await store.create(job({ expiresAtMs: 5_000 }));
      await store.transition(id, ['queued'], { status: 'expired', updatedAtMs: 5_000, expiresAtMs: 20_000 });
      expect(await store.listExpired(10_000, 10)).toEqual([]);
      expect((await store.listExpired(20_000, 10)).map((j) => j.id)).toEqual([id]);
    });

    it('deletes a job once', async () => {
      const store = await factory();
      const { id } = await store.create(job());
      expect(await store.delete(id)).toBe(true);
      expect(await store.get(id)).toBeUndefined();
      expect(await store.delete(id)).toBe(false);
      expect(await store.listExpired(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    });

    it('returns records the caller cannot change behind the store', async () => {
      const store = await factory();
      const input = job();
      const created = await store.create(input);
      (created as { status: string }).status = 'failed';
      (input as { status: string }).status = 'failed';
      expect((await store.get(input.id))?.status).toBe('queued');
    });
  });
}
