import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { DeadLetteredJobMessage, JobMessage, JobQueue, ReceivedJobMessage } from '../../ports/job-queue.js';

/** Options of {@link MemoryJobQueue}. */
export interface MemoryJobQueueOptions {
  readonly clock: Clock;
  /** Deliveries after which a message is dead-lettered (Service Bus `MaxDeliveryCount`). Default 5. */
  readonly maxDeliveries?: number;
  /** Refuse `send` beyond this many pending messages. Default 100 000. */
  readonly maxMessages?: number;
}

interface Entry {
  readonly seq: number;
  readonly message: JobMessage;
  deliveryCount: number;
  visibleAtMs: number;
  lockToken: string | undefined;
}

/**
 * {@link JobQueue} in process memory with Service Bus peek-lock semantics: a received message is
 * hidden for its visibility timeout, redelivered with `deliveryCount + 1` when not settled in time,
 * and dead-lettered when it would be delivered more than `maxDeliveries` times. Time comes from the
 * injected clock, so tests move it.
 *
 * @example
 * const queue = new MemoryJobQueue({ clock: systemClock, maxDeliveries: 5 });
 */
export class MemoryJobQueue implements JobQueue {
  private readonly clock: Clock;
  private readonly maxDeliveries: number;
  private readonly maxMessages: number;
  private readonly entries: Entry[] = [];
  private readonly deadLetters: DeadLetteredJobMessage[] = [];
  private seq = 0;

  constructor(options: MemoryJobQueueOptions) {
    this.clock = options.clock;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.maxMessages = options.maxMessages ?? 100_000;
  }

  async send(message: JobMessage, options: { readonly deliverAtMs?: number } = {}): Promise<void> {
    if (this.entries.length >= this.maxMessages) throw new Error(`Job queue holds ${this.maxMessages} messages.`);
    this.entries.push({
      seq: this.seq++,
      message: structuredClone(message),
      deliveryCount: 0,
      visibleAtMs: options.deliverAtMs ?? this.clock.now(),
      lockToken: undefined,
    });
  }

  async receive(maxMessages: number, visibilityTimeoutMs: number): Promise<ReceivedJobMessage[]> {
    const now = this.clock.now();
    const out: ReceivedJobMessage[] = [];
    for (const entry of [...this.entries]) {
      if (out.length >= maxMessages) break;
      if (entry.visibleAtMs > now) continue;
      if (entry.deliveryCount >= this.maxDeliveries) {
        this.remove(entry);
        this.deadLetters.push({
          message: structuredClone(entry.message),
          deliveryCount: entry.deliveryCount,
          reason: 'MaxDeliveryCountExceeded',
        });
        continue;
      }
      entry.deliveryCount += 1;
      entry.lockToken = randomUUID();
      entry.visibleAtMs = now + visibilityTimeoutMs;
      out.push({
        message: structuredClone(entry.message),
        deliveryCount: entry.deliveryCount,
        lockToken: entry.lockToken,
        lockedUntilMs: entry.visibleAtMs,
      });
    }
    return out;
  }

  async complete(lockToken: string): Promise<boolean> {
    const entry = this.locked(lockToken);
    if (entry === undefined) return false;
    this.remove(entry);
    return true;
  }

  async abandon(lockToken: string, options: { readonly retryAfterMs?: number } = {}): Promise<boolean> {
    const entry = this.locked(lockToken);
    if (entry === undefined) return false;
    entry.lockToken = undefined;
    entry.visibleAtMs = this.clock.now() + Math.max(0, options.retryAfterMs ?? 0);
    return true;
  }

  async deadLetter(lockToken: string, reason: string): Promise<boolean> {
    const entry = this.locked(lockToken);
    if (entry === undefined) return false;
    this.remove(entry);
    this.deadLetters.push({ message: structuredClone(entry.message), deliveryCount: entry.deliveryCount, reason });
    return true;
  }

  async renewLock(lockToken: string, visibilityTimeoutMs: number): Promise<number | undefined> {
    const entry = this.locked(lockToken);
    if (entry === undefined) return undefined;
    entry.visibleAtMs = this.clock.now() + visibilityTimeoutMs;
    return entry.visibleAtMs;
  }

  async peekDeadLetters(maxMessages: number): Promise<DeadLetteredJobMessage[]> {
    return this.deadLetters.slice(0, maxMessages).map((d) => structuredClone(d));
  }

  /** Messages not yet completed or dead-lettered (tests, admin view). */
  get depth(): number {
    return this.entries.length;
  }

  private locked(lockToken: string): Entry | undefined {
    const entry = this.entries.find((e) => e.lockToken === lockToken);
    if (entry === undefined || entry.visibleAtMs <= this.clock.now()) return undefined;
    return entry;
  }

  private remove(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
  }
}
