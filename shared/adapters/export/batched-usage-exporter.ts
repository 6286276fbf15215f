import type { UsageRecord } from '../../core/usage/usage-record.js';
import type { UsageExporter, UsageExportStats } from '../../ports/usage-exporter.js';

/** What one send did: records taken off the front of the buffer, and how many of them arrived. */
export interface SendOutcome {
  /** Records consumed from the front (sent, or refused as too large and dropped). */
  readonly consumed: number;
  readonly sent: number;
}

/**
 * Sends a prefix of `records` as one batch. Throws when the send failed: nothing is consumed and the
 * records are sent again later.
 */
export type SendBatch = (records: readonly UsageRecord[]) => Promise<SendOutcome>;

/** Arms a one-shot timer; returns its disarm function (injected so tests drive time). */
export type ExportTimer = (callback: () => void, delayMs: number) => () => void;

/** Options of {@link createBatchedUsageExporter}. */
export interface BatchedUsageExporterOptions {
  /** The exporter's name in stats and errors (no secrets). */
  readonly name: string;
  readonly send: SendBatch;
  /** Releases the destination's connection (after the last send of `close`). */
  readonly closeDestination?: () => Promise<void>;
  /** Records offered to one send (default 500). */
  readonly maxBatchRecords?: number;
  /** Buffered records past which `export` waits for room (default 10,000); as many more may wait. */
  readonly maxBufferedRecords?: number;
  /** Background send interval; a full batch is sent at once (default 1,000 ms; 0 = only on flush). */
  readonly flushIntervalMs?: number;
  /** First retry delay after a failed send, doubled per failure with jitter (default 1,000 ms). */
  readonly retryBaseMs?: number;
  /** Longest retry delay (default 60,000 ms). */
  readonly retryMaxMs?: number;
  /** How long `close` keeps sending before it counts the rest as dropped (default 10,000 ms). */
  readonly closeTimeoutMs?: number;
  readonly now: () => number;
  readonly random?: () => number;
  readonly setTimer?: ExportTimer;
  /** Failed sends and dropped records, at most once a minute for drops. */
  readonly onError?: (error: unknown) => void;
}

const defaultTimer: ExportTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * The buffering half of a usage exporter: a bounded buffer drained by one send at a time, in the background
 * once a batch is full or every `flushIntervalMs`; failed sends keep their records and are retried with
 * exponential backoff and jitter; a full buffer makes `export` wait (counted as back-pressure) in a waiting
 * room of the same size, past which records are dropped, counted and reported. The destination half (how a
 * batch is packed and sent) is `send`.
 *
 * @example
 * const exporter = createBatchedUsageExporter({ name: 'event-hubs:ns/hub', send, now: () => clock.now() });
 * void exporter.export(record);
 */
export function createBatchedUsageExporter(options: BatchedUsageExporterOptions): UsageExporter {
  const setTimer = options.setTimer ?? defaultTimer;
  const state = new ExportBuffer(options);
  const intervalMs = options.flushIntervalMs ?? 1_000;
  let disarm: (() => void) | undefined;
  const arm = (): void => {
    disarm = setTimer(() => {
      state.background();
      if (!state.closed) arm();
    }, intervalMs);
  };
  if (intervalMs > 0) arm();

  return {
    export: (record) => state.export(record),
    stats: () => state.stats(),
    flush: () => state.flush(),
    async close() {
      if (state.closed) return;
      state.closed = true;
      disarm?.();
      // Records waiting for room join the buffer: close sends everything it was given.
      state.admitWaiting(true);
      await sendWithin(state.flush(), options.closeTimeoutMs ?? 10_000, setTimer).catch(() => undefined);
      state.dropUnsent();
      await options.closeDestination?.();
    },
  };
}

/**
 * The exporter's state machine: the buffer, its waiting room, the one send in flight, the retry backoff
 * and the counters. The timer and `close`'s deadline stay in the factory.
 */
class ExportBuffer {
  closed = false;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private readonly random: () => number;
  private readonly counts = { sent: 0, failedSends: 0, backPressure: 0, dropped: 0 };
  private lastError: UsageExportStats['lastError'];
  private buffer: UsageRecord[] = [];
  private readonly waiting: { readonly record: UsageRecord; readonly resolve: () => void }[] = [];
  private sending: Promise<void> | undefined;
  private failures = 0;
  private nextAttemptAtMs = 0;
  private lastDropReportMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: BatchedUsageExporterOptions) {
    this.maxBatch = Math.max(1, options.maxBatchRecords ?? 500);
    this.maxBuffered = Math.max(this.maxBatch, options.maxBufferedRecords ?? 10_000);
    this.random = options.random ?? Math.random;
  }

  async export(record: UsageRecord): Promise<void> {
    if (this.closed) return this.drop(1, 'the exporter is closed');
    if (this.buffer.length >= this.maxBuffered) {
      if (this.waiting.length >= this.maxBuffered) return this.drop(1, 'the buffer and its waiting room are full');
      this.counts.backPressure += 1;
      return new Promise<void>((resolve) => this.waiting.push({ record, resolve }));
    }
    this.buffer.push(record);
    if (this.buffer.length >= this.maxBatch) this.background();
  }

  stats(): UsageExportStats {
    const lastError = this.lastError;
    return {
      name: this.options.name,
      buffered: this.buffer.length + this.waiting.length,
      ...this.counts,
      ...(lastError && { lastError }),
    };
  }

  async flush(): Promise<void> {
    while (this.sending !== undefined) await this.sending.catch(() => undefined);
    if (this.buffer.length === 0) return;
    this.sending = this.drain().finally(() => (this.sending = undefined));
    await this.sending;
  }

  background(): void {
    if (this.sending === undefined && this.buffer.length > 0 && this.options.now() >= this.nextAttemptAtMs)
      this.flush().catch(() => undefined);
  }

  /** Moves waiting records into the buffer while it has room (all of them at close). */
  admitWaiting(all = false): void {
    while (this.waiting.length > 0 && (all || this.buffer.length < this.maxBuffered)) {
      const next = this.waiting.shift()!;
      this.buffer.push(next.record);
      next.resolve();
    }
  }

  /** At close, after the last send: what is still buffered is dropped, and reported whatever the last report. */
  dropUnsent(): void {
    if (this.buffer.length === 0) return;
    this.lastDropReportMs = Number.NEGATIVE_INFINITY;
    this.drop(this.buffer.length, 'not sent before close');
    this.buffer = [];
  }

  /** Sends until the buffer is empty; a failure leaves the records buffered and schedules the retry. */
  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      let outcome: SendOutcome;
      try {
        outcome = await this.options.send(this.buffer.slice(0, this.maxBatch));
      } catch (error) {
        this.counts.failedSends += 1;
        this.failures += 1;
        const { retryMaxMs = 60_000, retryBaseMs = 1_000 } = this.options;
        const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** (this.failures - 1));
        this.nextAttemptAtMs = this.options.now() + delay * (0.5 + this.random() / 2);
        this.fail(error);
        throw error;
      }
      this.failures = 0;
      this.buffer = this.buffer.slice(outcome.consumed);
      this.counts.sent += outcome.sent;
      if (outcome.consumed > outcome.sent) this.drop(outcome.consumed - outcome.sent, 'larger than a batch can hold');
      this.admitWaiting();
    }
  }

  private fail(error: unknown): void {
    this.lastError = { atMs: this.options.now(), message: error instanceof Error ? error.message : String(error) };
    this.options.onError?.(error);
  }

  private drop(count: number, why: string): void {
    this.counts.dropped += count;
    const now = this.options.now();
    if (now - this.lastDropReportMs < 60_000) return;
    this.lastDropReportMs = now;
    this.fail(
      new Error(`${this.options.name}: ${count} usage record(s) dropped (${why}); ${this.counts.dropped} in all.`),
    );
  }
}

function sendWithin(work: Promise<void>, ms: number, setTimer: ExportTimer): Promise<void> {
  let disarm: (() => void) | undefined;
  const deadline = new Promise<void>((_, reject) => {
    disarm = setTimer(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => disarm?.());
}
