/**
 * The at-least-once queue of async jobs waiting for a worker (Service Bus in Azure, memory in the
 * standalone host). It carries job ids, not requests: the request is in the `PayloadStore`, the state in
 * the `JobStore`, so a duplicate or late message is harmless (the worker's conditional transition
 * decides whether it runs).
 *
 * Semantics (Service Bus peek-lock): a received message is invisible for its visibility timeout; if
 * not settled by then it is delivered again with `deliveryCount + 1`; a message that would be delivered
 * more than `maxDeliveries` times goes to the dead-letter queue instead.
 */

/**
 * The queue message.
 *
 * Compatibility: a wire format we own (the Service Bus message body, JSON). `v` is the schema version;
 * fields may be added within a version; readers reject versions they do not know.
 *
 * @example
 * const message: JobMessage = {
 *   v: 1,
 *   jobId: 'Yx3r0Vb2cT8nS1qLw7dG5A',
 *   requestId: 'req-1',
 *   enqueuedAtMs: 1_700_000_000_000,
 * };
 */
export interface JobMessage {
  readonly v: 1;
  readonly jobId: string;
  /** The submitting call's request id, for correlation. */
  readonly requestId?: string;
  readonly enqueuedAtMs: number;
}

/** One delivery of a message, locked for the receiver until {@link lockedUntilMs}. */
export interface ReceivedJobMessage {
  readonly message: JobMessage;
  /** 1 on the first delivery, +1 on each redelivery (abandon, or lock expiry). */
  readonly deliveryCount: number;
  /** Settles this delivery; worthless once the lock is lost. */
  readonly lockToken: string;
  readonly lockedUntilMs: number;
}

/** A message in the dead-letter queue. */
export interface DeadLetteredJobMessage {
  readonly message: JobMessage;
  readonly deliveryCount: number;
  readonly reason: string;
}

/**
 * @example
 * await queue.send({ v: 1, jobId, enqueuedAtMs: clock.now() });
 * for (const delivery of await queue.receive(8, 60_000)) {
 *   await queue.complete(delivery.lockToken);
 * }
 */
export interface JobQueue {
  /** Enqueues a message, visible at once or from `deliverAtMs`. */
  send(message: JobMessage, options?: { readonly deliverAtMs?: number }): Promise<void>;
  /**
   * Up to `maxMessages` visible messages, each locked for `visibilityTimeoutMs`. Resolves `[]` when none are visible
   * (does not wait).
   */
  receive(maxMessages: number, visibilityTimeoutMs: number): Promise<ReceivedJobMessage[]>;
  /** Removes the message. `false` when the lock was lost (the message may be delivered again). */
  complete(lockToken: string): Promise<boolean>;
  /**
   * Releases the message for redelivery (`deliveryCount + 1`), at once or after `retryAfterMs`. `false` when the lock
   * was lost.
   */
  abandon(lockToken: string, options?: { readonly retryAfterMs?: number }): Promise<boolean>;
  /** Moves the message to the dead-letter queue. `false` when the lock was lost. */
  deadLetter(lockToken: string, reason: string): Promise<boolean>;
  /**
   * Extends the lock by `visibilityTimeoutMs` from now; resolves the new `lockedUntilMs`, or `undefined` when the lock
   * was lost.
   */
  renewLock(lockToken: string, visibilityTimeoutMs: number): Promise<number | undefined>;
  /** Up to `maxMessages` dead-lettered messages, without removing them (operators, tests). */
  peekDeadLetters(maxMessages: number): Promise<DeadLetteredJobMessage[]>;
}
