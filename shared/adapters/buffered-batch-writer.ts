/** Options of {@link createBufferedBatchWriter}. */
export interface BufferedBatchWriterOptions<T> {
  /**
   * Writes one batch. On failure it returns (or throws with) the items that were not written, which go
   * back to the front of the buffer for the next attempt. Items that were written must not be returned.
   */
  readonly write: (batch: T[]) => Promise<T[]>;
  /** Buffered items that trigger a background write (default 100). */
  readonly flushEvery?: number;
  /** Hard bound on buffered items; past it `add` waits for the write in flight (default 10,000). */
  readonly maxBuffered?: number;
  /** Background write interval in ms so quiet periods still get written (default 1,000; 0 = none). */
  readonly intervalMs?: number;
  /** Receives background write errors (the items stay buffered and are retried on the next flush). */
  readonly onError?: (error: unknown) => void;
}

/** A bounded, buffered writer: one write at a time, back-pressure instead of unbounded growth. */
export interface BufferedBatchWriter<T> {
  /** Buffers an item; waits (back-pressure) only when the buffer is full. */
  add(item: T): Promise<void>;
  /** Resolves when everything buffered at call time is written (rejects with the write's error). */
  flush(): Promise<void>;
  /** Stops the interval and flushes. */
  close(): Promise<void>;
  /** Removes and answers every buffered item (after a failed `close`, to keep them elsewhere). */
  takeAll(): T[];
  readonly buffered: number;
}

/** A write failed; `unwritten` are the items to retry. */
export class BatchWriteError<T> extends Error {
  constructor(
    readonly unwritten: T[],
    options: { cause: unknown },
  ) {
    super('A usage ledger batch write failed.', options);
  }
}

/**
 * The append path shared by the usage ledgers (NDJSON file, Azure Table): items are buffered and written
 * in batches, one write at a time — in the background once `flushEvery` items wait or every `intervalMs`
 * — never on the caller's path, with a hard bound on what waits (the caller then waits instead of memory
 * growing). A failed write keeps its unwritten items at the front of the buffer.
 *
 * @example
 * const writer = createBufferedBatchWriter({
 *   write: async (lines) => {
 *     await file.write(lines.join(''));
 *     return [];
 *   },
 * });
 * await writer.add(line);
 */
export function createBufferedBatchWriter<T>(options: BufferedBatchWriterOptions<T>): BufferedBatchWriter<T> {
  const flushEvery = Math.max(1, options.flushEvery ?? 100);
  const maxBuffered = Math.max(flushEvery, options.maxBuffered ?? 10_000);
  let buffer: T[] = [];
  let writing: Promise<void> | undefined;

  const writeOnce = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    const { unwritten, failure } = await writeBatch(options.write, batch);
    if (unwritten.length === 0) return;
    buffer = unwritten.concat(buffer);
    throw failure ?? new Error(`${unwritten.length} buffered item(s) were not written.`);
  };

  const flush = async (): Promise<void> => {
    while (writing !== undefined) await writing.catch(() => undefined);
    if (buffer.length === 0) return;
    writing = writeOnce().finally(() => {
      writing = undefined;
    });
    await writing;
  };

  const background = (): void => {
    flush().catch((error: unknown) => options.onError?.(error));
  };

  const intervalMs = options.intervalMs ?? 1_000;
  const tick = (): unknown => buffer.length > 0 && writing === undefined && background();
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs).unref() : undefined;

  const push = (item: T): void => {
    buffer.push(item);
    if (buffer.length >= flushEvery && writing === undefined) background();
  };

  /** The buffer is full: waits for the write in flight (or writes) until there is room (back-pressure). */
  const addWhenRoom = async (item: T): Promise<void> => {
    while (buffer.length >= maxBuffered) await (writing?.catch(() => undefined) ?? flush());
    push(item);
  };

  return {
    get buffered() {
      return buffer.length;
    },
    add(item) {
      // Room in the buffer (the usual case): buffered at once, one shared resolved promise, no async frame.
      if (buffer.length < maxBuffered) {
        push(item);
        return ADDED;
      }
      return addWhenRoom(item);
    },
    flush,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await flush();
    },
    takeAll() {
      const items = buffer;
      buffer = [];
      return items;
    },
  };
}

const ADDED: Promise<void> = Promise.resolve();

/** Writes one batch: what was not written (all of it when the write threw, or what a BatchWriteError names) and why. */
async function writeBatch<T>(
  write: (batch: T[]) => Promise<T[]>,
  batch: T[],
): Promise<{ readonly unwritten: T[]; readonly failure?: unknown }> {
  try {
    return { unwritten: await write(batch) };
  } catch (error) {
    return { unwritten: error instanceof BatchWriteError ? (error.unwritten as T[]) : batch, failure: error };
  }
}
