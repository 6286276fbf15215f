import type { JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import type { JobSettlement, JobWorker } from './job-worker.js';
import type { JobSignals } from './job-signals.js';
import { defaultSetJobTimer, type SetJobTimer } from './job-timer.js';

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
 *   queue,
 *   worker,
 *   signals,
 *   concurrency: 4,
 *   visibilityTimeoutMs: 60_000,
 *   pollIntervalMs: 1_000,
 * });
 * runner.start();
 * // on shutdown
 * await runner.stop({ graceMs: 10_000 });
 */
export function createInProcessJobRunner(options: InProcessJobRunnerOptions): InProcessJobRunner {
  const { queue, worker, concurrency, visibilityTimeoutMs, pollIntervalMs } = options;
  const setTimer = options.setTimer ?? defaultSetJobTimer;
  const minPollMs = Math.min(options.minPollIntervalMs ?? 50, pollIntervalMs);
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  // A wake-up that arrives while the loop is busy (receiving) is remembered, not lost.
  let wakePending = false;
  let stopController = new AbortController();
  let unsubscribe: (() => void) | undefined;

  const wake = (): void => {
    const resolve = wakeUp;
    wakeUp = undefined;
    if (resolve === undefined) wakePending = true;
    else resolve();
  };

  function pause(ms: number | undefined): Promise<void> {
    if (wakePending) {
      wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const disarm = ms === undefined ? () => undefined : setTimer(() => finish(), ms);
      const finish = (): void => {
        disarm();
        if (wakeUp === finish) wakeUp = undefined;
        resolve();
      };
      wakeUp = finish;
    });
  }

  async function process(delivery: ReceivedJobMessage): Promise<void> {
    let disarmRenewal: () => void = () => undefined;
    let settled = false;
    const renew = (): void => {
      disarmRenewal = setTimer(() => {
        queue.renewLock(delivery.lockToken, visibilityTimeoutMs).then(
          (until) => {
            if (until !== undefined && !settled) renew();
          },
          (error: unknown) => {
            options.onError?.(error);
            if (!settled) renew();
          },
        );
      }, visibilityTimeoutMs / 2);
    };
    renew();
    let settlement: JobSettlement;
    try {
      settlement = await worker.handleMessage(delivery.message, delivery.deliveryCount, stopController.signal);
    } catch (error) {
      options.onError?.(error);
      settlement = { action: 'abandon', retryAfterMs: 0, reason: 'worker error' };
    } finally {
      settled = true;
      disarmRenewal();
    }
    try {
      if (settlement.action === 'complete') await queue.complete(delivery.lockToken);
      else if (settlement.action === 'abandon')
        await queue.abandon(delivery.lockToken, { retryAfterMs: settlement.retryAfterMs });
      else await queue.deadLetter(delivery.lockToken, settlement.reason);
    } catch (error) {
      options.onError?.(error);
    }
    options.onSettled?.(delivery, settlement);
  }

  async function run(): Promise<void> {
    let idleMs = minPollMs;
    while (running) {
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        await pause(undefined);
        continue;
      }
      let deliveries: ReceivedJobMessage[] = [];
      try {
        deliveries = await queue.receive(free, visibilityTimeoutMs);
      } catch (error) {
        options.onError?.(error);
      }
      if (!running) {
        for (const delivery of deliveries) await queue.abandon(delivery.lockToken).catch(options.onError);
        break;
      }
      for (const delivery of deliveries) {
        const task: Promise<void> = process(delivery).finally(() => {
          inFlight.delete(task);
          wake();
        });
        inFlight.add(task);
      }
      if (deliveries.length === 0) {
        await pause(idleMs);
        idleMs = Math.min(idleMs * 2, pollIntervalMs);
      } else {
        idleMs = minPollMs;
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      stopController = new AbortController();
      unsubscribe = options.signals?.onSubmitted(() => wake());
      loop = run();
    },
    async stop(stopOptions = {}) {
      running = false;
      unsubscribe?.();
      wake();
      await loop;
      const graceMs = stopOptions.graceMs ?? 0;
      if (inFlight.size > 0) {
        if (graceMs <= 0) stopController.abort();
        else {
          const disarm = setTimer(() => stopController.abort(), graceMs);
          await Promise.allSettled([...inFlight]);
          disarm();
        }
      }
      await Promise.allSettled([...inFlight]);
    },
    wake,
    get active() {
      return inFlight.size;
    },
  };
}
