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
  const maxBatch = Math.max(1, options.maxBatchRecords ?? 500);
  const maxBuffered = Math.max(maxBatch, options.maxBufferedRecords ?? 10_000);
  const setTimer = options.setTimer ?? defaultTimer;
  const random = options.random ?? Math.random;
  const stats = { sent: 0, failedSends: 0, backPressure: 0, dropped: 0 };
  let lastError: UsageExportStats['lastError'];
  let buffer: UsageRecord[] = [];
  const waiting: { readonly record: UsageRecord; readonly resolve: () => void }[] = [];
  let sending: Promise<void> | undefined;
  let failures = 0;
  let nextAttemptAtMs = 0;
  let closed = false;
  let lastDropReportMs = Number.NEGATIVE_INFINITY;

  const fail = (error: unknown): void => {
    lastError = { atMs: options.now(), message: error instanceof Error ? error.message : String(error) };
    options.onError?.(error);
  };
  const drop = (count: number, why: string): void => {
    stats.dropped += count;
    const now = options.now();
    if (now - lastDropReportMs < 60_000) return;
    lastDropReportMs = now;
    fail(new Error(`${options.name}: ${count} usage record(s) dropped (${why}); ${stats.dropped} in all.`));
  };
  /** Moves waiting records into the buffer while it has room (all of them at close). */
  const admitWaiting = (all = false): void => {
    while (waiting.length > 0 && (all || buffer.length < maxBuffered)) {
      const next = waiting.shift()!;
      buffer.push(next.record);
      next.resolve();
    }
  };

  /** Sends until the buffer is empty; a failure leaves the records buffered and schedules the retry. */
  const drain = async (): Promise<void> => {
    while (buffer.length > 0) {
      let outcome: SendOutcome;
      try {
        outcome = await options.send(buffer.slice(0, maxBatch));
      } catch (error) {
        stats.failedSends += 1;
        failures += 1;
        const delay = Math.min(options.retryMaxMs ?? 60_000, (options.retryBaseMs ?? 1_000) * 2 ** (failures - 1));
        nextAttemptAtMs = options.now() + delay * (0.5 + random() / 2);
        fail(error);
        throw error;
      }
      failures = 0;
      buffer = buffer.slice(outcome.consumed);
      stats.sent += outcome.sent;
      if (outcome.consumed > outcome.sent) drop(outcome.consumed - outcome.sent, 'larger than a batch can hold');
      admitWaiting();
    }
  };
  const flush = async (): Promise<void> => {
    while (sending !== undefined) await sending.catch(() => undefined);
    if (buffer.length === 0) return;
    sending = drain().finally(() => (sending = undefined));
    await sending;
  };
  const background = (): void => {
    if (sending === undefined && buffer.length > 0 && options.now() >= nextAttemptAtMs) flush().catch(() => undefined);
  };

  const intervalMs = options.flushIntervalMs ?? 1_000;
  let disarm: (() => void) | undefined;
  const arm = (): void => {
    disarm = setTimer(() => {
      background();
      if (!closed) arm();
    }, intervalMs);
  };
  if (intervalMs > 0) arm();

  return {
    async export(record) {
      if (closed) return drop(1, 'the exporter is closed');
      if (buffer.length >= maxBuffered) {
        if (waiting.length >= maxBuffered) return drop(1, 'the buffer and its waiting room are full');
        stats.backPressure += 1;
        return new Promise<void>((resolve) => waiting.push({ record, resolve }));
      }
      buffer.push(record);
      if (buffer.length >= maxBatch) background();
    },
    stats: () => ({
      name: options.name,
      buffered: buffer.length + waiting.length,
      ...stats,
      ...(lastError && { lastError }),
    }),
    flush,
    async close() {
      if (closed) return;
      closed = true;
      disarm?.();
      // Records waiting for room join the buffer: close sends everything it was given.
      admitWaiting(true);
      await sendWithin(flush(), options.closeTimeoutMs ?? 10_000, setTimer).catch(() => undefined);
      if (buffer.length > 0) {
        lastDropReportMs = Number.NEGATIVE_INFINITY;
        drop(buffer.length, 'not sent before close');
        buffer = [];
      }
      await options.closeDestination?.();
    },
  };
}

function sendWithin(work: Promise<void>, ms: number, setTimer: ExportTimer): Promise<void> {
  let disarm: (() => void) | undefined;
  const deadline = new Promise<void>((_, reject) => {
    disarm = setTimer(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => disarm?.());
}
