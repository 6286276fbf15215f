import type { QueueClient } from '@azure/storage-queue';
import type { DeadLetteredJobMessage, JobMessage, JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import { statusOf } from './azure-errors.js';
import { createOnce } from './create-once.js';
import { parseJobMessage } from './service-bus-job-queue.js';

/** The calls of `QueueClient` the adapter makes (the real client, or a test seam). */
export type StorageQueueClient = Pick<
  QueueClient,
  'createIfNotExists' | 'sendMessage' | 'receiveMessages' | 'deleteMessage' | 'updateMessage' | 'peekMessages'
>;

/** Dependencies of {@link createStorageQueueJobQueue}. */
export interface StorageQueueJobQueueDeps {
  /** The job queue (`gateway-jobs`). */
  readonly queue: StorageQueueClient;
  /** Where dead-lettered messages go: `{queue}-poison`, the queue the Functions host moves poison messages to. */
  readonly poisonQueue: StorageQueueClient;
  /** Wall clock, to treat an expired visibility as a lost lock (default `Date.now`). */
  readonly now?: () => number;
}

/** Options of {@link createStorageQueueJobQueue}. */
export interface StorageQueueJobQueueOptions {
  /** Deliveries after which a message is moved to the poison queue (= host.json `queues.maxDequeueCount`). */
  readonly maxDeliveries: number;
  /** Create both queues on first use (default true; infra creates them on Azure). */
  readonly createQueues?: boolean;
}

/** Body field: deliveries of the earlier copies of a re-scheduled message (Service Bus: an application property). */
export const STORAGE_PRIOR_DELIVERIES_FIELD = 'gwPriorDeliveries';
/** Body field of a dead-lettered copy: why and after how many deliveries. */
export const STORAGE_DEAD_LETTER_FIELD = 'gwDeadLetter';

/** The Storage queue job queue, with the delayed re-send the Functions trigger uses. */
export interface StorageQueueJobQueue extends JobQueue {
  /**
   * Sends a copy of `message` visible at `deliverAtMs`, carrying `deliveries` so far in
   * `gwPriorDeliveries` (a delayed retry when the host settles the original).
   */
  reschedule(message: JobMessage, deliveries: number, deliverAtMs: number): Promise<void>;
}

interface Held {
  readonly messageId: string;
  popReceipt: string;
  readonly body: JobMessage;
  readonly deliveryCount: number;
  lockedUntilMs: number;
}

/**
 * Creates the Azure Storage queue {@link JobQueue} — the long-call queue of `func start` with Azurite and
 * no Service Bus (ADR 0007). Same port, same semantics as the Service Bus adapter:
 * - a message is the {@link JobMessage} JSON, base64-encoded (the Functions queue trigger's default
 *   `messageEncoding`), plus `gwPriorDeliveries` on a re-scheduled copy;
 * - visibility timeout = the peek-lock: `receive` hides a message for `visibilityTimeoutMs` (whole
 *   seconds, rounded up), `renewLock` extends it, `abandon` makes it visible again (at once or after
 *   `retryAfterMs`), the next receive counts one more delivery (`dequeueCount`);
 * - a lock is lost once its visibility has run out (as on Service Bus), whether or not another receiver
 *   has taken the message; settling then answers `false`;
 * - dead-lettering moves the message to `{queue}-poison` (where the host moves a message after
 *   `maxDequeueCount` deliveries) with `gwDeadLetter: { reason, deliveryCount }`; a message received for
 *   the `maxDeliveries + 1`-th time, or that is not a v1 job message, is moved there instead of delivered.
 * - no duplicate detection (Storage queues have none): a second send of a job is delivered twice, which
 *   the job store's conditional transitions absorb, as they absorb Service Bus redeliveries.
 *
 * @example
 * const queue = createStorageQueueJobQueue({ queue: service.getQueueClient('gateway-jobs'),
 *   poisonQueue: service.getQueueClient('gateway-jobs-poison') }, { maxDeliveries: 5 });
 */
export function createStorageQueueJobQueue(
  deps: StorageQueueJobQueueDeps,
  options: StorageQueueJobQueueOptions,
): StorageQueueJobQueue {
  const now = deps.now ?? (() => Date.now());
  const create = options.createQueues !== false;
  const ready = createOnce(() => deps.queue.createIfNotExists(), create);
  const poisonReady = createOnce(() => deps.poisonQueue.createIfNotExists(), create);
  const held = new Map<string, Held>();
  let tokens = 0;

  const send = async (body: Record<string, unknown>, deliverAtMs: number | undefined): Promise<void> => {
    await ready();
    const delayMs = deliverAtMs === undefined ? 0 : deliverAtMs - now();
    await deps.queue.sendMessage(encode(body), {
      ...(delayMs > 0 ? { visibilityTimeout: Math.ceil(delayMs / 1000) } : {}),
      messageTimeToLive: -1,
    });
  };

  const moveToPoison = async (
    messageId: string,
    popReceipt: string,
    body: unknown,
    reason: string,
    deliveryCount: number,
  ): Promise<void> => {
    await poisonReady();
    const payload = typeof body === 'object' && body !== null ? body : { unreadable: String(body) };
    await deps.poisonQueue.sendMessage(encode({ ...payload, [STORAGE_DEAD_LETTER_FIELD]: { reason, deliveryCount } }), {
      messageTimeToLive: -1,
    });
    await deps.queue.deleteMessage(messageId, popReceipt);
  };

  /** The held delivery for a token whose visibility has not run out (pruning the ones that have). */
  const live = (lockToken: string): Held | undefined => {
    const h = held.get(lockToken);
    if (h !== undefined && h.lockedUntilMs > now()) return h;
    held.delete(lockToken);
    return undefined;
  };

  const settle = async (lockToken: string, action: (h: Held) => Promise<void>): Promise<boolean> => {
    const h = live(lockToken);
    if (h === undefined) return false;
    held.delete(lockToken);
    try {
      await action(h);
      return true;
    } catch (error) {
      if (isLockLost(error)) return false;
      throw error;
    }
  };

  return {
    send: (message, sendOptions) => send({ ...message }, sendOptions?.deliverAtMs),

    reschedule: (message, deliveries, deliverAtMs) =>
      send({ ...message, [STORAGE_PRIOR_DELIVERIES_FIELD]: deliveries }, deliverAtMs),

    async receive(maxMessages, visibilityTimeoutMs) {
      await ready();
      const visibilitySec = Math.max(1, Math.ceil(visibilityTimeoutMs / 1000));
      const sentAtMs = now();
      const response = await deps.queue.receiveMessages({
        numberOfMessages: Math.max(1, Math.min(32, maxMessages)),
        visibilityTimeout: visibilitySec,
      });
      const out: ReceivedJobMessage[] = [];
      for (const item of response.receivedMessageItems) {
        const raw = decode(item.messageText);
        const body = parseJobMessage(raw);
        const deliveryCount = item.dequeueCount + priorDeliveriesOf(raw);
        if (body === undefined || deliveryCount > options.maxDeliveries) {
          const reason = body === undefined ? 'JOB_MESSAGE_UNREADABLE' : 'MaxDeliveryCountExceeded';
          await moveToPoison(item.messageId, item.popReceipt, raw, reason, deliveryCount - 1).catch(() => undefined);
          continue;
        }
        const lockToken = `${item.messageId}#${++tokens}`;
        const lockedUntilMs = lockedUntil(item.nextVisibleOn, sentAtMs, visibilitySec);
        held.set(lockToken, {
          messageId: item.messageId,
          popReceipt: item.popReceipt,
          body,
          deliveryCount,
          lockedUntilMs,
        });
        out.push({ message: body, deliveryCount, lockToken, lockedUntilMs });
      }
      return out;
    },

    complete: (lockToken) => settle(lockToken, (h) => deps.queue.deleteMessage(h.messageId, h.popReceipt).then()),

    abandon: (lockToken, abandonOptions) =>
      settle(lockToken, async (h) => {
        const retryAfterMs = abandonOptions?.retryAfterMs ?? 0;
        await deps.queue.updateMessage(
          h.messageId,
          h.popReceipt,
          undefined,
          Math.max(0, Math.ceil(retryAfterMs / 1000)),
        );
      }),

    deadLetter: (lockToken, reason) =>
      settle(lockToken, (h) => moveToPoison(h.messageId, h.popReceipt, h.body, reason, h.deliveryCount)),

    async renewLock(lockToken, visibilityTimeoutMs) {
      const h = live(lockToken);
      if (h === undefined) return undefined;
      try {
        const visibilitySec = Math.max(1, Math.ceil(visibilityTimeoutMs / 1000));
        const sentAtMs = now();
        const renewed = await deps.queue.updateMessage(h.messageId, h.popReceipt, undefined, visibilitySec);
        if (renewed.popReceipt !== undefined) h.popReceipt = renewed.popReceipt;
        h.lockedUntilMs = lockedUntil(renewed.nextVisibleOn, sentAtMs, visibilitySec);
        return h.lockedUntilMs;
      } catch (error) {
        if (!isLockLost(error)) throw error;
        held.delete(lockToken);
        return undefined;
      }
    },

    async peekDeadLetters(maxMessages) {
      await poisonReady();
      const response = await deps.poisonQueue.peekMessages({
        numberOfMessages: Math.max(1, Math.min(32, maxMessages)),
      });
      const out: DeadLetteredJobMessage[] = [];
      for (const item of response.peekedMessageItems) {
        const raw = decode(item.messageText);
        const message = parseJobMessage(raw);
        if (message === undefined) continue;
        const note = (raw as Record<string, unknown>)[STORAGE_DEAD_LETTER_FIELD] as
          { reason?: unknown; deliveryCount?: unknown } | undefined;
        out.push({
          message,
          // A message the Functions host moved carries no note: it was delivered maxDequeueCount times.
          deliveryCount: typeof note?.deliveryCount === 'number' ? note.deliveryCount : options.maxDeliveries,
          reason: typeof note?.reason === 'string' ? note.reason : 'MaxDequeueCountExceeded',
        });
      }
      return out;
    },
  };
}

/** The deliveries a re-scheduled copy carries (`gwPriorDeliveries`), 0 when none. */
export function priorDeliveriesOf(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const prior = Number((body as Record<string, unknown>)[STORAGE_PRIOR_DELIVERIES_FIELD] ?? 0);
  return Number.isFinite(prior) && prior > 0 ? Math.floor(prior) : 0;
}

/**
 * When a lock runs out. `nextVisibleOn` comes in an HTTP date (whole seconds, truncated), so it can read
 * up to a second early; the request's start plus the visibility asked for is a bound that is never late.
 */
function lockedUntil(nextVisibleOn: Date | undefined, sentAtMs: number, visibilitySec: number): number {
  return Math.max(nextVisibleOn?.getTime() ?? 0, sentAtMs + visibilitySec * 1000);
}

function encode(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/** Base64 JSON (what this adapter and the host's default encoding write); plain JSON is read too. */
function decode(text: string): unknown {
  for (const candidate of [Buffer.from(text, 'base64').toString('utf8'), text]) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // Try the next reading.
    }
  }
  return text;
}

/** 404: the message is gone; 400 PopReceiptMismatch: someone else received it since. */
function isLockLost(error: unknown): boolean {
  const status = statusOf(error);
  return status === 404 || (status === 400 && String((error as { code?: unknown }).code).includes('PopReceipt'));
}
