import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { DeadLetteredJobMessage, JobMessage, JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import { statusOf } from './azure-errors.js';
import { createOnce } from './create-once.js';
import { HeldDeliveries, PRIOR_DELIVERIES_KEY, priorDeliveriesOf, type HeldDelivery } from './held-deliveries.js';
import { readJobMessage } from './schemas/job-message-schema.js';

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
export const STORAGE_PRIOR_DELIVERIES_FIELD = PRIOR_DELIVERIES_KEY;
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
  let tokens = 0;
  const context: QueueContext = {
    deps,
    options,
    now,
    ready: createOnce(() => deps.queue.createIfNotExists(), create),
    poisonReady: createOnce(() => deps.poisonQueue.createIfNotExists(), create),
    held: new HeldDeliveries<Held>({ now, isLockLost, expiry: 'local' }),
    lockTokenOf: (messageId) => `${messageId}#${++tokens}`,
  };
  const { held } = context;
  return {
    send: (message, sendOptions) => send(context, { ...message }, sendOptions?.deliverAtMs),
    reschedule: (message, deliveries, deliverAtMs) =>
      send(context, { ...message, [STORAGE_PRIOR_DELIVERIES_FIELD]: deliveries }, deliverAtMs),
    receive: (maxMessages, visibilityTimeoutMs) => receive(context, maxMessages, visibilityTimeoutMs),
    complete: (lockToken) => held.settle(lockToken, (h) => deps.queue.deleteMessage(h.messageId, h.popReceipt).then()),
    abandon: (lockToken, abandonOptions) =>
      held.settle(lockToken, async (h) => {
        const retryAfterSec = Math.max(0, Math.ceil((abandonOptions?.retryAfterMs ?? 0) / 1000));
        await deps.queue.updateMessage(h.messageId, h.popReceipt, undefined, retryAfterSec);
      }),
    deadLetter: (lockToken, reason) =>
      held.settle(lockToken, (h) => moveToPoison(context, h, h.body, reason, h.deliveryCount)),
    renewLock: (lockToken, visibilityTimeoutMs) =>
      held.renew(lockToken, (h) => extendVisibility(context, h, visibilityTimeoutMs)),
    peekDeadLetters: (maxMessages) => peekDeadLetters(context, maxMessages),
  };
}

interface Held extends HeldDelivery {
  readonly messageId: string;
  popReceipt: string;
  readonly body: JobMessage;
  readonly deliveryCount: number;
}

interface QueueContext {
  readonly deps: StorageQueueJobQueueDeps;
  readonly options: StorageQueueJobQueueOptions;
  readonly now: () => number;
  /** Create the queue / the poison queue on first use (once). */
  readonly ready: () => Promise<void>;
  readonly poisonReady: () => Promise<void>;
  readonly held: HeldDeliveries<Held>;
  /** A lock token of its own for each delivery (a message id is the same on every delivery). */
  readonly lockTokenOf: (messageId: string) => string;
}

async function send(
  { deps, now, ready }: QueueContext,
  body: Record<string, unknown>,
  deliverAtMs: number | undefined,
): Promise<void> {
  await ready();
  const delayMs = deliverAtMs === undefined ? 0 : deliverAtMs - now();
  await deps.queue.sendMessage(encode(body), {
    ...(delayMs > 0 ? { visibilityTimeout: Math.ceil(delayMs / 1000) } : {}),
    messageTimeToLive: -1,
  });
}

/** Moves a message to the poison queue, with a `gwDeadLetter` note of why and after how many deliveries. */
async function moveToPoison(
  { deps, poisonReady }: QueueContext,
  at: { readonly messageId: string; readonly popReceipt: string },
  body: unknown,
  reason: string,
  deliveryCount: number,
): Promise<void> {
  await poisonReady();
  const payload = typeof body === 'object' && body !== null ? body : { unreadable: String(body) };
  await deps.poisonQueue.sendMessage(encode({ ...payload, [STORAGE_DEAD_LETTER_FIELD]: { reason, deliveryCount } }), {
    messageTimeToLive: -1,
  });
  await deps.queue.deleteMessage(at.messageId, at.popReceipt);
}

async function receive(
  context: QueueContext,
  maxMessages: number,
  visibilityTimeoutMs: number,
): Promise<ReceivedJobMessage[]> {
  await context.ready();
  context.held.prune();
  const visibilitySec = Math.max(1, Math.ceil(visibilityTimeoutMs / 1000));
  const sentAtMs = context.now();
  const response = await context.deps.queue.receiveMessages({
    numberOfMessages: Math.max(1, Math.min(32, maxMessages)),
    visibilityTimeout: visibilitySec,
  });
  const out: ReceivedJobMessage[] = [];
  for (const item of response.receivedMessageItems) {
    const delivery = await accept(context, item, lockedUntil(item.nextVisibleOn, sentAtMs, visibilitySec));
    if (delivery !== undefined) out.push(delivery);
  }
  return out;
}

/** A received message as a delivery, or undefined when it is unreadable or past its deliveries (poisoned). */
async function accept(
  context: QueueContext,
  item: DequeuedMessageItem,
  lockedUntilMs: number,
): Promise<ReceivedJobMessage | undefined> {
  const raw = decode(item.messageText);
  const body = readJobMessage(raw);
  const deliveryCount = item.dequeueCount + priorDeliveriesOf(fieldOf(raw, STORAGE_PRIOR_DELIVERIES_FIELD));
  if (body === undefined || deliveryCount > context.options.maxDeliveries) {
    const reason = body === undefined ? 'JOB_MESSAGE_UNREADABLE' : 'MaxDeliveryCountExceeded';
    await moveToPoison(context, item, raw, reason, deliveryCount - 1).catch(() => undefined);
    return undefined;
  }
  const lockToken = context.lockTokenOf(item.messageId);
  context.held.hold(lockToken, {
    messageId: item.messageId,
    popReceipt: item.popReceipt,
    body,
    deliveryCount,
    lockedUntilMs,
  });
  return { message: body, deliveryCount, lockToken, lockedUntilMs };
}

/** Hides a held message for another `visibilityTimeoutMs`; the new lock end. */
async function extendVisibility({ deps, now }: QueueContext, h: Held, visibilityTimeoutMs: number): Promise<number> {
  const visibilitySec = Math.max(1, Math.ceil(visibilityTimeoutMs / 1000));
  const sentAtMs = now();
  const renewed = await deps.queue.updateMessage(h.messageId, h.popReceipt, undefined, visibilitySec);
  if (renewed.popReceipt !== undefined) h.popReceipt = renewed.popReceipt;
  return lockedUntil(renewed.nextVisibleOn, sentAtMs, visibilitySec);
}

async function peekDeadLetters(
  { deps, options, poisonReady }: QueueContext,
  maxMessages: number,
): Promise<DeadLetteredJobMessage[]> {
  await poisonReady();
  const response = await deps.poisonQueue.peekMessages({ numberOfMessages: Math.max(1, Math.min(32, maxMessages)) });
  const out: DeadLetteredJobMessage[] = [];
  for (const item of response.peekedMessageItems) {
    const raw = decode(item.messageText);
    const message = readJobMessage(raw);
    if (message === undefined) continue;
    const note = fieldOf(raw, STORAGE_DEAD_LETTER_FIELD) as { reason?: unknown; deliveryCount?: unknown } | undefined;
    out.push({
      message,
      // A message the Functions host moved carries no note: it was delivered maxDequeueCount times.
      deliveryCount: typeof note?.deliveryCount === 'number' ? note.deliveryCount : options.maxDeliveries,
      reason: typeof note?.reason === 'string' ? note.reason : 'MaxDequeueCountExceeded',
    });
  }
  return out;
}

function fieldOf(body: unknown, field: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
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
