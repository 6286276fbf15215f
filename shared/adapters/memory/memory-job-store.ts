import type { JobPatch, JobRecord, JobStatus, JobStore, JobTransitionResult } from '../../ports/job-store.js';

/**
 * {@link JobStore} in process memory: the standalone host's default and the unit tests'. Records are
 * copied in and out, so callers cannot change stored state behind the store; every method runs without
 * an `await` between read and write, which makes `transition` atomic within the process.
 *
 * @example
 * const jobs = new MemoryJobStore();
 * await jobs.create(job);
 */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();

  async create(job: JobRecord): Promise<JobRecord> {
    if (this.jobs.has(job.id)) throw new Error(`Job ${job.id} exists.`);
    const stored: JobRecord = { ...structuredClone(job), version: 1 };
    this.jobs.set(job.id, stored);
    return structuredClone(stored);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return job === undefined ? undefined : structuredClone(job);
  }

  async transition(
    id: string,
    from: readonly JobStatus[],
    patch: JobPatch,
    options: { readonly ifVersion?: number } = {},
  ): Promise<JobTransitionResult> {
    const current = this.jobs.get(id);
    if (current === undefined) return { applied: false, job: undefined };
    if (!from.includes(current.status) || (options.ifVersion !== undefined && options.ifVersion !== current.version)) {
      return { applied: false, job: structuredClone(current) };
    }
    const defined = Object.fromEntries(
      Object.entries(structuredClone(patch)).filter(([key, value]) => value !== undefined && key !== 'version'),
    );
    const next: JobRecord = { ...current, ...defined, version: current.version + 1 };
    this.jobs.set(id, next);
    return { applied: true, job: structuredClone(next) };
  }

  async listExpired(nowMs: number, limit: number): Promise<JobRecord[]> {
    return [...this.jobs.values()]
      .filter((job) => job.expiresAtMs <= nowMs)
      .sort((a, b) => a.expiresAtMs - b.expiresAtMs)
      .slice(0, Math.max(0, limit))
      .map((job) => structuredClone(job));
  }

  async delete(id: string): Promise<boolean> {
    return this.jobs.delete(id);
  }

  /** Number of stored jobs (tests, admin view). */
  get size(): number {
    return this.jobs.size;
  }
}
