import type { JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import type { InProcessJobRunnerOptions } from './in-process-job-runner.js';
import type { SetJobTimer } from './job-timer.js';
import type { JobSettlement } from './job-worker.js';

/**
 * Works one received message: its lock is renewed at half the visibility timeout while the worker runs the
 * job, then the message is settled as the worker decided (complete, abandon with its delay, dead-letter). A
 * worker that throws abandons the message for another try; queue errors go to `onError`.
 *
 * @example
 * await processDelivery(options, setTimer, delivery, stopController.signal);
 */
export async function processDelivery(
  options: InProcessJobRunnerOptions,
  setTimer: SetJobTimer,
  delivery: ReceivedJobMessage,
  stopSignal: AbortSignal,
): Promise<void> {
  const renewal = renewLock(options, setTimer, delivery);
  let settlement: JobSettlement;
  try {
    settlement = await options.worker.handleMessage(delivery.message, delivery.deliveryCount, stopSignal);
  } catch (error) {
    options.onError?.(error);
    settlement = { action: 'abandon', retryAfterMs: 0, reason: 'worker error' };
  } finally {
    renewal.stop();
  }
  try {
    await settleMessage(options.queue, delivery, settlement);
  } catch (error) {
    options.onError?.(error);
  }
  options.onSettled?.(delivery, settlement);
}

/** Renews the message's lock every half visibility timeout until stopped (a failed renewal is retried). */
function renewLock(
  options: InProcessJobRunnerOptions,
  setTimer: SetJobTimer,
  delivery: ReceivedJobMessage,
): { stop(): void } {
  const { queue, visibilityTimeoutMs, onError } = options;
  let disarm: () => void = () => undefined;
  let stopped = false;
  const renew = (): void => {
    disarm = setTimer(() => {
      queue.renewLock(delivery.lockToken, visibilityTimeoutMs).then(
        (until) => {
          if (until !== undefined && !stopped) renew();
        },
        (error: unknown) => {
          onError?.(error);
          if (!stopped) renew();
        },
      );
    }, visibilityTimeoutMs / 2);
  };
  renew();
  return {
    stop() {
      stopped = true;
      disarm();
    },
  };
}

async function settleMessage(queue: JobQueue, delivery: ReceivedJobMessage, settlement: JobSettlement): Promise<void> {
  if (settlement.action === 'complete') await queue.complete(delivery.lockToken);
  else if (settlement.action === 'abandon')
    await queue.abandon(delivery.lockToken, { retryAfterMs: settlement.retryAfterMs });
  else await queue.deadLetter(delivery.lockToken, settlement.reason);
}
