import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';

/** The bounds of {@link QueuedBodyBudget}, read per submission (a reload applies to the next one). */
export interface QueuedBodyLimits {
  /** Request bytes of every job queued or running in this process (`async.maxQueuedBodyBytes`). */
  readonly totalBytes: number;
  /** Request bytes of one caller's jobs (`async.maxQueuedBodyBytesPerCaller`). */
  readonly perCallerBytes: number;
}

/** One job's hold on the budget, taken before its body is stored. */
export interface QueuedBodyHold {
  /** Adds bytes; throws 429 `GW_ERR_ASYNC_BACKLOG_FULL` past either bound (and takes nothing). */
  grow(bytes: number): void;
  /** Names the job the hold belongs to; it is released when that job finishes or its run deadline passes. */
  bind(jobId: string, deadlineMs: number): void;
  /** Gives the bytes back (the submission failed, or the job finished). Idempotent. */
  release(): void;
}

interface Entry {
  readonly caller: string;
  bytes: number;
  deadlineMs: number;
  released: boolean;
}

/** How long a refused submitter is told to wait: queued jobs leave as the runner finishes them. */
const RETRY_AFTER_MS = 5_000;

/**
 * Bounds the request bodies of async jobs that wait in (or run from) this process — per caller and in
 * total. Without it, every queued job's body stays in the payload store (in memory, with the embedded
 * stores) until a worker takes it: 120 queued 800 KB jobs held ~62 MB with no limit. A submission past
 * either bound is refused with 429 before anything is stored; a job's bytes come back when it finishes,
 * however it finishes, or at the latest when its run deadline passes (a job is never queued past it).
 *
 * @example
 * const budget = new QueuedBodyBudget(clock, () => ({ totalBytes: 256 << 20, perCallerBytes: 128 << 20 }));
 * const hold = budget.hold('alice');
 * hold.grow(body.byteLength); // throws 429 when full
 * hold.bind(job.id, job.deadlineMs);
 * // … when the job finishes:
 * budget.finished(job.id);
 */
export class QueuedBodyBudget {
  private readonly byJob = new Map<string, Entry>();
  private readonly byCaller = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: () => QueuedBodyLimits,
  ) {}

  /** Bytes held in total and by `caller`. */
  held(caller?: string): number {
    return caller === undefined ? this.total : (this.byCaller.get(caller) ?? 0);
  }

  /** A new, empty hold for one submission of `caller`. */
  hold(caller: string): QueuedBodyHold {
    const entry: Entry = { caller, bytes: 0, deadlineMs: Number.POSITIVE_INFINITY, released: false };
    return {
      grow: (bytes) => this.grow(entry, bytes),
      bind: (jobId, deadlineMs) => {
        entry.deadlineMs = deadlineMs;
        if (!entry.released) this.byJob.set(jobId, entry);
      },
      release: () => this.release(entry),
    };
  }

  /** The job finished (or was cancelled): its bytes come back. */
  finished(jobId: string): void {
    const entry = this.byJob.get(jobId);
    if (entry === undefined) return;
    this.byJob.delete(jobId);
    this.release(entry);
  }

  private grow(entry: Entry, bytes: number): void {
    if (entry.released || bytes <= 0) return;
    this.expire();
    const { totalBytes, perCallerBytes } = this.limits();
    const mine = this.byCaller.get(entry.caller) ?? 0;
    if (mine + bytes > perCallerBytes)
      throw full(
        `Your queued async jobs hold ${mine} of ${perCallerBytes} request bytes ` +
          '(async.maxQueuedBodyBytesPerCaller, GATEWAY_ASYNC__MAX_QUEUED_BODY_BYTES_PER_CALLER)',
      );
    if (this.total + bytes > totalBytes)
      throw full(
        `Queued async jobs hold ${this.total} of ${totalBytes} request bytes ` +
          '(async.maxQueuedBodyBytes, GATEWAY_ASYNC__MAX_QUEUED_BODY_BYTES)',
      );
    entry.bytes += bytes;
    this.total += bytes;
    this.byCaller.set(entry.caller, mine + bytes);
  }

  private release(entry: Entry): void {
    if (entry.released) return;
    entry.released = true;
    this.total -= entry.bytes;
    const left = (this.byCaller.get(entry.caller) ?? 0) - entry.bytes;
    if (left > 0) this.byCaller.set(entry.caller, left);
    else this.byCaller.delete(entry.caller);
    entry.bytes = 0;
  }

  /** Jobs past their run deadline are no longer queued (the worker or the sweep ended them). */
  private expire(): void {
    const now = this.clock.now();
    for (const [jobId, entry] of this.byJob)
      if (entry.deadlineMs <= now) {
        this.byJob.delete(jobId);
        this.release(entry);
      }
  }
}

function full(detail: string): GatewayError {
  return new GatewayError('GW_ERR_ASYNC_BACKLOG_FULL', {
    message: `${detail}; retry when some of them have finished.`,
    retryAfterMs: RETRY_AFTER_MS,
  });
}
