import { randomUUID } from 'node:crypto';
import { ServiceBusError, type ServiceBusMessage, type ServiceBusReceivedMessage } from '@azure/service-bus';
import type { JobQueueDeadLetterReceiver, JobQueueReceiver, JobQueueSender } from '../service-bus-job-queue.js';

/** Options of {@link FakeServiceBusQueue}: the entity properties that shape peek-lock behaviour. */
export interface FakeServiceBusQueueOptions {
  readonly now: () => number;
  /** The entity's `LockDuration`. */
  readonly lockDurationMs: number;
  /** The entity's `MaxDeliveryCount`. */
  readonly maxDeliveryCount: number;
  /** `RequiresDuplicateDetection` (history kept for the whole fake's life). */
  readonly duplicateDetection?: boolean;
}

interface Stored {
  readonly sequenceNumber: number;
  readonly messageId: string | undefined;
  readonly body: unknown;
  readonly contentType: string | undefined;
  readonly correlationId: string | undefined;
  readonly applicationProperties: Record<string, unknown>;
  visibleAtMs: number;
  deliveryCount: number;
  lockToken: string | undefined;
  lockedUntilMs: number;
  deadLetterReason: string | undefined;
}

/**
 * An in-process Service Bus queue behind the SDK's own shapes (`sendMessages`, `receiveMessages`,
 * `completeMessage`, `abandonMessage`, `deadLetterMessage`, `renewMessageLock`, dead-letter `peekMessages`),
 * modelling what the real entity does: peek-lock with a fixed `LockDuration`; a lock that expires makes
 * the message visible again and the next delivery counts +1; `abandonMessage` does the same at once; a
 * message whose delivery count reaches `MaxDeliveryCount` goes to the dead-letter sub-queue with reason
 * `MaxDeliveryCountExceeded` instead of being delivered again; scheduled messages stay invisible until
 * `scheduledEnqueueTimeUtc`; duplicate `messageId`s are dropped; settling with a lost lock throws
 * `ServiceBusError` code `MessageLockLost`. Messages are delivered oldest first (by sequence number).
 * Not modelled: sessions, partitions, transactions, message TTL, AMQP link failures.
 */
export class FakeServiceBusQueue {
  private readonly active: Stored[] = [];
  private readonly deadLetters: Stored[] = [];
  private readonly seenIds = new Set<string>();
  private nextSequence = 1;

  constructor(private readonly options: FakeServiceBusQueueOptions) {}

  readonly sender: JobQueueSender = {
    sendMessages: async (message: ServiceBusMessage) => {
      if (this.options.duplicateDetection !== false && message.messageId !== undefined) {
        const id = String(message.messageId);
        if (this.seenIds.has(id)) return;
        this.seenIds.add(id);
      }
      this.active.push({
        sequenceNumber: this.nextSequence++,
        messageId: message.messageId === undefined ? undefined : String(message.messageId),
        // The SDK encodes the body on the wire; a copy stands for that.
        body: structuredClone(message.body),
        contentType: message.contentType,
        correlationId: message.correlationId === undefined ? undefined : String(message.correlationId),
        applicationProperties: { ...(message.applicationProperties ?? {}) },
        visibleAtMs: message.scheduledEnqueueTimeUtc?.getTime() ?? this.options.now(),
        deliveryCount: 0,
        lockToken: undefined,
        lockedUntilMs: 0,
        deadLetterReason: undefined,
      });
    },
  };

  readonly receiver: JobQueueReceiver = {
    receiveMessages: async (maxMessageCount: number) => {
      this.expireLocks();
      const now = this.options.now();
      const out: ServiceBusReceivedMessage[] = [];
      for (const m of this.active.sort((a, b) => a.sequenceNumber - b.sequenceNumber)) {
        if (out.length >= maxMessageCount) break;
        if (m.lockToken !== undefined || m.visibleAtMs > now) continue;
        m.deliveryCount++;
        m.lockToken = randomUUID();
        m.lockedUntilMs = now + this.options.lockDurationMs;
        out.push(this.view(m));
      }
      return out;
    },
    completeMessage: async (message) => {
      const m = this.locked(message);
      this.active.splice(this.active.indexOf(m), 1);
    },
    abandonMessage: async (message) => {
      const m = this.locked(message);
      this.release(m);
    },
    deadLetterMessage: async (message, options) => {
      const m = this.locked(message);
      this.moveToDeadLetter(m, options?.deadLetterReason ?? 'unknown');
    },
    renewMessageLock: async (message) => {
      const m = this.locked(message);
      m.lockedUntilMs = this.options.now() + this.options.lockDurationMs;
      return new Date(m.lockedUntilMs);
    },
  };

  /** Opens a dead-letter receiver whose peek starts at the oldest dead-lettered message. */
  openDeadLetterReceiver = (): JobQueueDeadLetterReceiver => ({
    peekMessages: async (maxMessageCount: number) => {
      this.expireLocks();
      return this.deadLetters.slice(0, maxMessageCount).map((m) => this.view(m));
    },
    close: async () => undefined,
  });

  /** Messages in the queue (active, scheduled or locked), for tests. */
  get activeCount(): number {
    this.expireLocks();
    return this.active.length;
  }

  private locked(message: ServiceBusReceivedMessage): Stored {
    this.expireLocks();
    const m = this.active.find((s) => s.lockToken !== undefined && s.lockToken === message.lockToken);
    if (m === undefined)
      throw new ServiceBusError(
        'The lock supplied is invalid. Either the lock expired, ' +
          'or the message has already been removed from the queue.',
        'MessageLockLost',
      );
    return m;
  }

  private expireLocks(): void {
    const now = this.options.now();
    for (const m of [...this.active]) if (m.lockToken !== undefined && m.lockedUntilMs <= now) this.release(m);
  }

  /** Ends a delivery without settling it: visible again, or dead-lettered once MaxDeliveryCount is reached. */
  private release(m: Stored): void {
    m.lockToken = undefined;
    if (m.deliveryCount >= this.options.maxDeliveryCount) this.moveToDeadLetter(m, 'MaxDeliveryCountExceeded');
  }

  private moveToDeadLetter(m: Stored, reason: string): void {
    m.lockToken = undefined;
    m.deadLetterReason = reason;
    this.active.splice(this.active.indexOf(m), 1);
    this.deadLetters.push(m);
  }

  private view(m: Stored): ServiceBusReceivedMessage {
    return {
      body: structuredClone(m.body),
      messageId: m.messageId,
      contentType: m.contentType,
      correlationId: m.correlationId,
      applicationProperties: { ...m.applicationProperties } as ServiceBusReceivedMessage['applicationProperties'],
      deliveryCount: m.deliveryCount,
      lockToken: m.lockToken,
      lockedUntilUtc: m.lockToken === undefined ? undefined : new Date(m.lockedUntilMs),
      deadLetterReason: m.deadLetterReason,
      state: 'active',
    } as unknown as ServiceBusReceivedMessage;
  }
}
