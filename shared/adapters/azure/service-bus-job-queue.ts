import {
  isServiceBusError,
  type ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
} from '@azure/service-bus';
import type { DeadLetteredJobMessage, JobMessage, JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';
import { HeldDeliveries, type HeldDelivery } from './held-deliveries.js';
import { readJobMessage } from './schemas/job-message-schema.js';
import { priorDeliveriesOfMessage, serviceBusJobMessage, serviceBusRetryCopy } from './service-bus-job-message.js';

/** The part of `ServiceBusSender` the queue uses. */
export interface JobQueueSender {
  sendMessages(message: ServiceBusMessage): Promise<void>;
}

/** The part of a peek-lock `ServiceBusReceiver` the queue uses. */
export interface JobQueueReceiver {
  receiveMessages(
    maxMessageCount: number,
    options?: { maxWaitTimeInMs?: number },
  ): Promise<ServiceBusReceivedMessage[]>;
  completeMessage(message: ServiceBusReceivedMessage): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessage): Promise<void>;
  deadLetterMessage(
    message: ServiceBusReceivedMessage,
    options?: { deadLetterReason?: string; deadLetterErrorDescription?: string },
  ): Promise<void>;
  renewMessageLock(message: ServiceBusReceivedMessage): Promise<Date>;
}

/** A receiver on the dead-letter sub-queue, opened per peek so that every peek starts at the oldest message. */
export interface JobQueueDeadLetterReceiver {
  peekMessages(maxMessageCount: number): Promise<ServiceBusReceivedMessage[]>;
  close(): Promise<void>;
}

/** Dependencies of {@link createServiceBusJobQueue}. */
export interface ServiceBusJobQueueDeps {
  readonly sender: JobQueueSender;
  readonly receiver: JobQueueReceiver;
  readonly openDeadLetterReceiver: () => JobQueueDeadLetterReceiver;
  /** Wall clock, for pruning lock tokens (default `Date.now`). */
  readonly now?: () => number;
}

/** Options of {@link createServiceBusJobQueue}. */
export interface ServiceBusJobQueueOptions {
  /**
   * Deliveries after which a message is dead-lettered. Must equal the queue's `MaxDeliveryCount`
   * (infra sets both); the adapter enforces it itself for messages it re-scheduled (see `abandon`).
   */
  readonly maxDeliveries: number;
  /** How long `receive` lets the SDK wait for messages before answering `[]` (default 200 ms). */
  readonly receiveWaitMs?: number;
}

export { PRIOR_DELIVERIES_PROPERTY, SCHEMA_PROPERTY } from './service-bus-job-message.js';

/**
 * Creates the Service Bus {@link JobQueue} (peek-lock). The message body is the {@link JobMessage}
 * JSON (`contentType: application/json`), `messageId` is the job id (the queue's duplicate detection
 * drops a second enqueue of the same job), `correlationId` the request id.
 *
 * Mapping to the port:
 * - visibility timeout = the queue's `LockDuration` (Service Bus fixes it per entity; `receive`'s
 *   argument is not sent — infra sets `LockDuration` to the worker's visibility timeout, and workers
 *   call `renewLock` for longer calls);
 * - `complete` / `deadLetter` / `renewLock` / immediate `abandon` are the SDK's settlement calls; a
 *   lost lock (`MessageLockLost`, or a token this instance no longer holds) answers `false`/`undefined`;
 * - `abandon` with `retryAfterMs`: Service Bus cannot delay an abandoned message, so the adapter sends
 *   a scheduled copy (`scheduledEnqueueTimeUtc`, `messageId` `{jobId}.r{n}` to pass duplicate
 *   detection, prior deliveries carried in `gwPriorDeliveries`) and then completes the original. If the
 *   complete fails the job is delivered twice, which the job store's conditional transitions absorb.
 *
 * @example
 * const queue = createServiceBusJobQueueFromClient(clients.serviceBusClient(), 'gateway-jobs', { maxDeliveries: 5 });
 * await queue.send({ v: 1, jobId, requestId, enqueuedAtMs: clock.now() });
 */
export function createServiceBusJobQueue(deps: ServiceBusJobQueueDeps, options: ServiceBusJobQueueOptions): JobQueue {
  const now = deps.now ?? (() => Date.now());
  const held = new HeldDeliveries<Held>({ now, isLockLost, expiry: 'service' });
  const context: QueueContext = { deps, options, now, held };
  return {
    send: (message, sendOptions) => deps.sender.sendMessages(serviceBusJobMessage(message, sendOptions?.deliverAtMs)),
    receive: (maxMessages) => receive(context, maxMessages),
    complete: (lockToken) => held.settle(lockToken, (h) => deps.receiver.completeMessage(h.message)),
    abandon: (lockToken, abandonOptions) => abandon(context, lockToken, abandonOptions?.retryAfterMs ?? 0),
    deadLetter: (lockToken, reason) =>
      held.settle(lockToken, (h) =>
        deps.receiver.deadLetterMessage(h.message, { deadLetterReason: reason, deadLetterErrorDescription: reason }),
      ),
    renewLock: (lockToken) =>
      held.renew(lockToken, async (h) => (await deps.receiver.renewMessageLock(h.message)).getTime()),
    peekDeadLetters: (maxMessages) => peekDeadLetters(deps, maxMessages),
  };
}

interface Held extends HeldDelivery {
  readonly message: ServiceBusReceivedMessage;
  readonly body: JobMessage;
  readonly priorDeliveries: number;
}

interface QueueContext {
  readonly deps: ServiceBusJobQueueDeps;
  readonly options: ServiceBusJobQueueOptions;
  readonly now: () => number;
  readonly held: HeldDeliveries<Held>;
}

async function receive(context: QueueContext, maxMessages: number): Promise<ReceivedJobMessage[]> {
  const { deps, held } = context;
  held.prune();
  const received = await deps.receiver.receiveMessages(maxMessages, {
    maxWaitTimeInMs: context.options.receiveWaitMs ?? 200,
  });
  const out: ReceivedJobMessage[] = [];
  for (const message of received) {
    const delivery = await accept(context, message);
    if (delivery !== undefined) out.push(delivery);
  }
  return out;
}

/** A received message as a delivery, or undefined when it is unreadable or past its deliveries (dead-lettered). */
async function accept(
  { deps, options, now, held }: QueueContext,
  message: ServiceBusReceivedMessage,
): Promise<ReceivedJobMessage | undefined> {
  const lockToken = message.lockToken;
  if (lockToken === undefined) return undefined;
  const priorDeliveries = priorDeliveriesOfMessage(message);
  const deliveryCount = (message.deliveryCount ?? 1) + priorDeliveries;
  const body = readJobMessage(message.body);
  const refusal =
    body === undefined
      ? { deadLetterReason: 'JOB_MESSAGE_UNREADABLE', deadLetterErrorDescription: 'Not a version-1 job message.' }
      : deliveryCount > options.maxDeliveries
        ? { deadLetterReason: 'MaxDeliveryCountExceeded' }
        : undefined;
  if (body === undefined || refusal !== undefined) {
    await deps.receiver.deadLetterMessage(message, refusal).catch(() => undefined);
    return undefined;
  }
  const lockedUntilMs = message.lockedUntilUtc?.getTime() ?? now();
  held.hold(lockToken, { message, body, priorDeliveries, lockedUntilMs });
  return { message: body, deliveryCount, lockToken, lockedUntilMs };
}

/**
 * Abandons a delivery. Service Bus cannot delay an abandoned message, so a delayed retry sends a scheduled copy
 * and completes the original (if that complete fails the job is delivered twice, which the job store absorbs).
 */
function abandon({ deps, now, held }: QueueContext, lockToken: string, retryAfterMs: number): Promise<boolean> {
  if (retryAfterMs <= 0) return held.settle(lockToken, (h) => deps.receiver.abandonMessage(h.message));
  return held.settle(lockToken, async (h) => {
    const deliveries = (h.message.deliveryCount ?? 1) + h.priorDeliveries;
    await deps.sender.sendMessages(serviceBusRetryCopy(h.body, deliveries, now() + retryAfterMs));
    await deps.receiver.completeMessage(h.message);
  });
}

async function peekDeadLetters(deps: ServiceBusJobQueueDeps, maxMessages: number): Promise<DeadLetteredJobMessage[]> {
  const receiver = deps.openDeadLetterReceiver();
  try {
    const out: DeadLetteredJobMessage[] = [];
    for (const m of await receiver.peekMessages(maxMessages)) {
      const body = readJobMessage(m.body);
      if (body === undefined) continue;
      out.push({
        message: body,
        deliveryCount: (m.deliveryCount ?? 0) + priorDeliveriesOfMessage(m),
        reason: m.deadLetterReason ?? 'unknown',
      });
    }
    return out;
  } finally {
    await receiver.close();
  }
}

/**
 * The same queue over a real `ServiceBusClient` (peek-lock receiver on `queueName`, a fresh
 * dead-letter receiver per peek). Close the client to release the links.
 *
 * @example
 * const queue = createServiceBusJobQueueFromClient(client, 'gateway-jobs', { maxDeliveries: 5 });
 */
export function createServiceBusJobQueueFromClient(
  client: ServiceBusClient,
  queueName: string,
  options: ServiceBusJobQueueOptions,
): JobQueue {
  return createServiceBusJobQueue(
    {
      sender: client.createSender(queueName),
      receiver: client.createReceiver(queueName, { receiveMode: 'peekLock' }),
      openDeadLetterReceiver: () =>
        client.createReceiver(queueName, { subQueueType: 'deadLetter', receiveMode: 'peekLock' }),
    },
    options,
  );
}

function isLockLost(error: unknown): boolean {
  return (
    isServiceBusError(error) &&
    (error.code === 'MessageLockLost' || error.code === 'MessageNotFound' || error.code === 'SessionLockLost')
  );
}
