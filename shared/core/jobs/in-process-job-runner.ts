import type { JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import type { JobSettlement, JobWorker } from './job-worker.js';
import type { JobSignals } from './job-signals.js';
import { defaultSetJobTimer, type SetJobTimer } from './job-timer.js';
import { processDelivery } from './process-delivery.js';
import { RunnerWakeup } from './runner-wakeup.js';

/** Dependencies and options of {@link createInProcessJobRunner}. */
export interface InProcessJobRunnerOptions {
  readonly queue: JobQueue;
  readonly worker: JobWorker;
  /** Jobs run at once. */
  readonly concurrency: number;
  /** Lock per received message; renewed at half of it while the job runs. */
  readonly visibilityTimeoutMs: number;
  /** Longest wait between polls of an empty queue (the wait doubles from `minPollIntervalMs` up to this). */
  readonly pollIntervalMs: number;
  /** Shortest wait between polls of an empty queue. Default 50. */
  readonly minPollIntervalMs?: number;
  /** Wakes the runner as soon as a job is submitted in this process. */
  readonly signals?: JobSignals | undefined;
  readonly setTimer?: SetJobTimer | undefined;
  /** Errors of the queue itself (receive, settle); the runner keeps going. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Called with every settlement (telemetry, tests). */
  readonly onSettled?: ((delivery: ReceivedJobMessage, settlement: JobSettlement) => void) | undefined;
}

/** The standalone host's job runner. */
export interface InProcessJobRunner {
  /** Starts polling. Idempotent. */
  start(): void;
  /**
   * Stops receiving; jobs still running after `graceMs` (default 0) are aborted and requeued. Resolves
   * when every in-flight delivery is settled.
   */
  stop(options?: { readonly graceMs?: number }): Promise<void>;
  /** Polls at once (e.g. after a submit). */
  wake(): void;
  /** Deliveries being worked on. */
  readonly active: number;
}

/**
 * Pulls job messages from the queue and hands them to the worker, at most `concurrency` at a time,
 * renewing each message's lock while its job runs and settling it as the worker decides. An empty
 * queue is polled with exponential backoff (from `minPollIntervalMs` to `pollIntervalMs`); a submit in
 * the same process wakes it at once, so an inline answer is not delayed by the poll interval.
 *
 * @example
 * const runner = createInProcessJobRunner({
 *   queue, worker, signals, concurrency: 4, visibilityTimeoutMs: 60_000, pollIntervalMs: 1_000,
 * });
 * runner.start();
 * // on shutdown
 * await runner.stop({ graceMs: 10_000 });
 */
export function createInProcessJobRunner(options: InProcessJobRunnerOptions): InProcessJobRunner {
  const runner = new JobRunnerLoop(options);
  return {
    start: () => runner.start(),
    stop: (stopOptions) => runner.stop(stopOptions),
    wake: runner.wakeup.wake,
    get active() {
      return runner.inFlight.size;
    },
  };
}

/** The runner's state: the receive loop, the deliveries in flight, the stop signal handed to the worker. */
class JobRunnerLoop {
  readonly inFlight = new Set<Promise<void>>();
  readonly wakeup: RunnerWakeup;
  private readonly options: InProcessJobRunnerOptions;
  private readonly setTimer: SetJobTimer;
  private readonly minPollMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopController = new AbortController();
  private unsubscribe: (() => void) | undefined;

  constructor(options: InProcessJobRunnerOptions) {
    this.options = options;
    this.setTimer = options.setTimer ?? defaultSetJobTimer;
    this.minPollMs = Math.min(options.minPollIntervalMs ?? 50, options.pollIntervalMs);
    this.wakeup = new RunnerWakeup(this.setTimer);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopController = new AbortController();
    this.unsubscribe = this.options.signals?.onSubmitted(() => this.wakeup.wake());
    this.loop = this.run();
  }

  async stop(stopOptions: { readonly graceMs?: number } = {}): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wakeup.wake();
    await this.loop;
    const graceMs = stopOptions.graceMs ?? 0;
    if (this.inFlight.size > 0) {
      if (graceMs <= 0) this.stopController.abort();
      else {
        const disarm = this.setTimer(() => this.stopController.abort(), graceMs);
        await Promise.allSettled([...this.inFlight]);
        disarm();
      }
    }
    await Promise.allSettled([...this.inFlight]);
  }

  /** Receives while running, as many as there are free slots; an empty queue is polled with backoff. */
  private async run(): Promise<void> {
    const { queue, concurrency, visibilityTimeoutMs, pollIntervalMs, onError } = this.options;
    let idleMs = this.minPollMs;
    while (this.running) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await this.wakeup.pause(undefined);
        continue;
      }
      let deliveries: ReceivedJobMessage[] = [];
      try {
        deliveries = await queue.receive(free, visibilityTimeoutMs);
      } catch (error) {
        onError?.(error);
      }
      if (!this.running) {
        for (const delivery of deliveries) await queue.abandon(delivery.lockToken).catch(onError);
        break;
      }
      for (const delivery of deliveries) this.spawn(delivery);
      if (deliveries.length === 0) {
        await this.wakeup.pause(idleMs);
        idleMs = Math.min(idleMs * 2, pollIntervalMs);
      } else {
        idleMs = this.minPollMs;
      }
    }
  }

  private spawn(delivery: ReceivedJobMessage): void {
    const task: Promise<void> = processDelivery(
      this.options,
      this.setTimer,
      delivery,
      this.stopController.signal,
    ).finally(() => {
      this.inFlight.delete(task);
      this.wakeup.wake();
    });
    this.inFlight.add(task);
  }
}
