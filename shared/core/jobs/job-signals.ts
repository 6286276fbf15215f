import type { JobRecord } from '../../ports/job-store.js';

/**
 * In-process notifications between the parts of the jobs engine that share a process: a submitter
 * waiting for its job's completion (the inline answer), the runner woken when a job is submitted, and
 * the abort handle of each running job (so that cancelling aborts the backend call at once). Across
 * instances these are not needed for correctness: the submitter re-reads the store at the sync-wait
 * mark, and a worker whose lease renewal fails (job cancelled elsewhere) aborts itself.
 *
 * @example
 * const signals = new JobSignals();
 * const waiting = signals.waitForFinish(jobId);
 * signals.finished(job); // resolves waiting.promise
 */
export class JobSignals {
  private readonly waiters = new Map<string, Set<(job: JobRecord) => void>>();
  private readonly runs = new Map<string, AbortController>();
  private readonly submittedListeners = new Set<(jobId: string) => void>();
  private readonly finishedListeners = new Set<(job: JobRecord) => void>();

  /** A promise of the job's finished record; `cancel()` stops waiting (the promise then never settles). */
  waitForFinish(jobId: string): { readonly promise: Promise<JobRecord>; cancel(): void } {
    let listener: ((job: JobRecord) => void) | undefined;
    const promise = new Promise<JobRecord>((resolve) => {
      listener = resolve;
    });
    const set = this.waiters.get(jobId) ?? new Set();
    set.add(listener!);
    this.waiters.set(jobId, set);
    return {
      promise,
      cancel: () => {
        set.delete(listener!);
        if (set.size === 0 && this.waiters.get(jobId) === set) this.waiters.delete(jobId);
      },
    };
  }

  /** Tells the waiters of `job.id`, and every {@link onFinished} listener, that it finished. */
  finished(job: JobRecord): void {
    for (const listener of this.finishedListeners) listener(job);
    const set = this.waiters.get(job.id);
    if (set === undefined) return;
    this.waiters.delete(job.id);
    for (const listener of set) listener(job);
  }

  /** Registers the abort handle of a running job; returns the unregister function. */
  registerRun(jobId: string, controller: AbortController): () => void {
    this.runs.set(jobId, controller);
    return () => {
      if (this.runs.get(jobId) === controller) this.runs.delete(jobId);
    };
  }

  /** Aborts the job's run in this process, if any; `true` when one was running here. */
  abortRun(jobId: string, reason: unknown): boolean {
    const controller = this.runs.get(jobId);
    if (controller === undefined) return false;
    controller.abort(reason);
    return true;
  }

  /** Announces a newly queued job (wakes an idle in-process runner). */
  submitted(jobId: string): void {
    for (const listener of this.submittedListeners) listener(jobId);
  }

  /** Subscribes to every job's {@link finished}; returns the unsubscribe function. */
  onFinished(listener: (job: JobRecord) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** Subscribes to {@link submitted}; returns the unsubscribe function. */
  onSubmitted(listener: (jobId: string) => void): () => void {
    this.submittedListeners.add(listener);
    return () => this.submittedListeners.delete(listener);
  }

  /** Waiters and runs currently registered (tests: nothing leaks). */
  get pending(): { readonly waiters: number; readonly runs: number } {
    return { waiters: this.waiters.size, runs: this.runs.size };
  }
}
