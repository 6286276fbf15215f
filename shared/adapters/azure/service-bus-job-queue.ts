import {
  isServiceBusError,
  type ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
} from '@azure/service-bus';
import type { DeadLetteredJobMessage, JobMessage, JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';

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

/** `applicationProperties` key: deliveries of the earlier copies of a re-scheduled message. */
export const PRIOR_DELIVERIES_PROPERTY = 'gwPriorDeliveries';
/** `applicationProperties` key: the message schema version (mirrors the body's `v`). */
export const SCHEMA_PROPERTY = 'gwSchema';

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
  const receiveWaitMs = options.receiveWaitMs ?? 200;
  interface Held {
    readonly message: ServiceBusReceivedMessage;
    readonly body: JobMessage;
    readonly priorDeliveries: number;
    lockedUntilMs: number;
  }
  const held = new Map<string, Held>();

  const prune = (): void => {
    const cutoff = now();
    for (const [token, h] of held) if (h.lockedUntilMs < cutoff) held.delete(token);
  };

  /** Runs a settlement; false when the lock is gone. */
  const settle = async (lockToken: string, action: (h: Held) => Promise<void>): Promise<boolean> => {
    const h = held.get(lockToken);
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
    async send(message, sendOptions) {
      await deps.sender.sendMessages({
        body: message,
        contentType: 'application/json',
        messageId: message.jobId,
        ...(message.requestId === undefined ? {} : { correlationId: message.requestId }),
        applicationProperties: { [SCHEMA_PROPERTY]: message.v },
        ...(sendOptions?.deliverAtMs === undefined
          ? {}
          : { scheduledEnqueueTimeUtc: new Date(sendOptions.deliverAtMs) }),
      });
    },

    async receive(maxMessages) {
      prune();
      const received = await deps.receiver.receiveMessages(maxMessages, { maxWaitTimeInMs: receiveWaitMs });
      const out: ReceivedJobMessage[] = [];
      for (const message of received) {
        const lockToken = message.lockToken;
        if (lockToken === undefined) continue;
        const priorDeliveries = Number(message.applicationProperties?.[PRIOR_DELIVERIES_PROPERTY] ?? 0) || 0;
        const deliveryCount = (message.deliveryCount ?? 1) + priorDeliveries;
        const body = parseJobMessage(message.body);
        if (body === undefined) {
          await deps.receiver
            .deadLetterMessage(message, {
              deadLetterReason: 'JOB_MESSAGE_UNREADABLE',
              deadLetterErrorDescription: 'Not a version-1 job message.',
            })
            .catch(() => undefined);
          continue;
        }
        if (deliveryCount > options.maxDeliveries) {
          await deps.receiver
            .deadLetterMessage(message, { deadLetterReason: 'MaxDeliveryCountExceeded' })
            .catch(() => undefined);
          continue;
        }
        const lockedUntilMs = message.lockedUntilUtc?.getTime() ?? now();
        held.set(lockToken, { message, body, priorDeliveries, lockedUntilMs });
        out.push({ message: body, deliveryCount, lockToken, lockedUntilMs });
      }
      return out;
    },

    complete(lockToken) {
      return settle(lockToken, (h) => deps.receiver.completeMessage(h.message));
    },

    abandon(lockToken, abandonOptions) {
      const retryAfterMs = abandonOptions?.retryAfterMs ?? 0;
      if (retryAfterMs <= 0) return settle(lockToken, (h) => deps.receiver.abandonMessage(h.message));
      return settle(lockToken, async (h) => {
        const deliveries = (h.message.deliveryCount ?? 1) + h.priorDeliveries;
        await deps.sender.sendMessages({
          body: h.body,
          contentType: 'application/json',
          messageId: `${h.body.jobId}.r${deliveries}`,
          ...(h.body.requestId === undefined ? {} : { correlationId: h.body.requestId }),
          applicationProperties: { [SCHEMA_PROPERTY]: h.body.v, [PRIOR_DELIVERIES_PROPERTY]: deliveries },
          scheduledEnqueueTimeUtc: new Date(now() + retryAfterMs),
        });
        await deps.receiver.completeMessage(h.message);
      });
    },

    deadLetter(lockToken, reason) {
      return settle(lockToken, (h) =>
        deps.receiver.deadLetterMessage(h.message, { deadLetterReason: reason, deadLetterErrorDescription: reason }),
      );
    },

    async renewLock(lockToken) {
      const h = held.get(lockToken);
      if (h === undefined) return undefined;
      try {
        h.lockedUntilMs = (await deps.receiver.renewMessageLock(h.message)).getTime();
        return h.lockedUntilMs;
      } catch (error) {
        if (isLockLost(error)) {
          held.delete(lockToken);
          return undefined;
        }
        throw error;
      }
    },

    async peekDeadLetters(maxMessages) {
      const receiver = deps.openDeadLetterReceiver();
      try {
        const peeked = await receiver.peekMessages(maxMessages);
        const out: DeadLetteredJobMessage[] = [];
        for (const m of peeked) {
          const body = parseJobMessage(m.body);
          if (body === undefined) continue;
          const prior = Number(m.applicationProperties?.[PRIOR_DELIVERIES_PROPERTY] ?? 0) || 0;
          out.push({
            message: body,
            deliveryCount: (m.deliveryCount ?? 0) + prior,
            reason: m.deadLetterReason ?? 'unknown',
          });
        }
        return out;
      } finally {
        await receiver.close();
      }
    },
  };
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

/** Reads a queue message body; undefined for anything that is not a version-1 {@link JobMessage}. */
export function parseJobMessage(body: unknown): JobMessage | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  } else if (value instanceof Uint8Array) {
    try {
      value = JSON.parse(new TextDecoder().decode(value));
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<JobMessage>;
  if (m.v !== 1 || typeof m.jobId !== 'string' || typeof m.enqueuedAtMs !== 'number') return undefined;
  return m as JobMessage;
}
