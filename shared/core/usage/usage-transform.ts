import { LineSplitter } from './line-splitter.js';
import { SseUsageMeter } from './sse-usage-meter.js';
import { createUsageTap, type UsageFinishOptions, type UsageTapOptions, type UsageTapStats } from './usage-tap.js';
import type { UsageFormat } from './usage-format.js';
import type { UsageReading } from './usage-reading.js';

/** Options of {@link createUsageTransform}. */
export interface UsageTransformOptions extends UsageTapOptions {
  /**
   * Remove the OpenAI include_usage chunk (`data:` event with `choices: []` and a non-null `usage`) from
   * what the caller sees; it is still metered. Set it exactly when the gateway injected
   * `stream_options.include_usage` (see `injectIncludeUsage`); never when the caller asked for usage.
   * Azure's `"usage": null` fields on ordinary chunks are never touched. Only applies to SSE.
   */
  stripUsageOnlyChunk?: boolean;
}

/** A metering transform for a response body, plus its reading. */
export interface UsageTransform {
  /** Pipe the backend body through this; what comes out goes to the caller. */
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  /**
   * The reading. Call after the stream ended, was cut or was cancelled (a cut stream yields the figures
   * reported so far, estimates for the rest). Idempotent.
   */
  finish(options?: UsageFinishOptions): UsageReading;
  /** Counters so far. */
  readonly stats: UsageTapStats;
  /** Usage-only chunks removed from the caller's stream. */
  readonly strippedChunks: number;
  /**
   * The same transform without a web stream, for hosts that relay async iterables: feed each backend
   * chunk and forward what comes back (undefined = nothing to forward yet).
   */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** Ends the input; returns any bytes still held. */
  end(): Uint8Array | undefined;
}

/**
 * Creates a `TransformStream` that meters usage as bytes pass, and optionally strips the include_usage
 * chunk the gateway injected.
 *
 * Without stripping, chunks pass through unchanged and unbuffered (the tap only observes). With stripping,
 * output is re-emitted a complete line at a time, byte-exact (CRLF kept), so an unfinished line is held
 * until its newline arrives (≤ `maxLineBytes`; a longer line is passed through unbuffered). SSE events are
 * only dispatched on a blank line, so holding a partial line delays nothing a client could act on.
 *
 * @example
 * const { stream, finish } = createUsageTransform(format, { stripUsageOnlyChunk: plan.injected, estimator });
 * const body = backendResponse.body!.pipeThrough(stream);
 * // ... when the body is done (or cut):
 * const reading = finish({ estimate: backendResponse.ok });
 */
export function createUsageTransform(format: UsageFormat, options: UsageTransformOptions = {}): UsageTransform {
  if (format.framing !== 'sse' || options.stripUsageOnlyChunk !== true) {
    const tap = createUsageTap(format, options);
    let stream: TransformStream<Uint8Array, Uint8Array> | undefined;
    return {
      // Built on first use: the engine relays async iterables and never needs it.
      get stream() {
        return (stream ??= new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            tap.observe(chunk);
            controller.enqueue(chunk);
          },
        }));
      },
      finish: (o) => tap.finish(o),
      stats: tap.stats,
      strippedChunks: 0,
      push(chunk) {
        tap.observe(chunk);
        return chunk;
      },
      end: () => undefined,
    };
  }

  const stats: UsageTapStats = { bytes: 0, droppedLines: 0, usageMessages: 0 };
  const meter = new SseUsageMeter(format.api, {
    estimator: options.estimator,
    requestModel: options.requestModel,
    maxEstimateTextChars: options.maxEstimateTextChars,
    maxEstimateRetainBytes: options.maxEstimateRetainBytes,
  });
  const out = new OutputBuilder();
  let dropNextBlank = false;
  let ended = false;
  let finished: UsageReading | undefined;
  const state = { strippedChunks: 0 };
  // Fast path: a chunk that starts with no held line and ends with LF is re-emitted as itself, minus the
  // byte ranges of stripped lines (every line is then a view into that chunk). Other chunks are rebuilt.
  let clean: Uint8Array | undefined;
  const excised: number[] = [];
  const drop = (raw: Uint8Array): void => {
    if (clean !== undefined) excised.push(raw.byteOffset - clean.byteOffset, raw.length);
  };
  const splitter = new LineSplitter(
    (line, raw) => {
      if (meter.line(line)) {
        state.strippedChunks++;
        dropNextBlank = true; // the event's terminating blank line goes too
        drop(raw);
        return;
      }
      if (dropNextBlank) {
        dropNextBlank = false;
        if (line.length === 0) {
          drop(raw);
          return;
        }
      }
      if (clean === undefined) out.write(raw);
    },
    { maxLineBytes: options.maxLineBytes, onOverflow: (bytes) => clean === undefined && out.write(bytes) },
  );
  const end = (): void => {
    if (ended) return;
    ended = true;
    splitter.end();
    stats.droppedLines = splitter.droppedLines;
  };
  const cleanOutput = (chunk: Uint8Array): Uint8Array | undefined => {
    if (excised.length === 0 && out.empty) return chunk;
    let at = 0;
    for (let i = 0; i < excised.length; i += 2) {
      const start = excised[i] ?? 0;
      if (start > at) out.write(chunk.subarray(at, start));
      at = start + (excised[i + 1] ?? 0);
    }
    if (at < chunk.length) out.write(chunk.subarray(at));
    excised.length = 0;
    return out.take();
  };

  const push = (chunk: Uint8Array): Uint8Array | undefined => {
    if (ended) return undefined;
    stats.bytes += chunk.length;
    if (chunk.length === 0) return undefined;
    // Whole lines before the first usage object pass through as they are, unsplit (the usage-only chunk
    // to hide holds a usage object, so it is never among them).
    let head: Uint8Array | undefined;
    if (!dropNextBlank && splitter.bufferedBytes === 0 && chunk[chunk.length - 1] === 0x0a) {
      const metered = meter.leadingLines(chunk);
      if (metered === chunk.length) return chunk;
      if (metered > 0) {
        head = chunk.subarray(0, metered);
        chunk = chunk.subarray(metered);
      }
    }
    if (head !== undefined) out.write(head);
    clean = splitter.bufferedBytes === 0 && chunk[chunk.length - 1] === 0x0a ? chunk : undefined;
    splitter.push(chunk);
    stats.droppedLines = splitter.droppedLines;
    const bytes = clean === undefined ? out.take() : cleanOutput(clean);
    clean = undefined;
    return bytes;
  };
  const flushHeld = (): Uint8Array | undefined => {
    end();
    return out.take();
  };

  let stream: TransformStream<Uint8Array, Uint8Array> | undefined;
  return {
    get stream() {
      return (stream ??= new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const bytes = push(chunk);
          if (bytes !== undefined) controller.enqueue(bytes);
        },
        flush(controller) {
          const bytes = flushHeld();
          if (bytes !== undefined) controller.enqueue(bytes);
        },
      }));
    },
    push,
    end: flushHeld,
    finish(finishOptions = {}) {
      if (finished === undefined) {
        end();
        out.take();
        finished = meter.result(finishOptions.estimate ?? true, options.estimatePromptTokens);
        stats.usageMessages = meter.usageMessages;
      }
      return finished;
    },
    stats,
    get strippedChunks() {
      return state.strippedChunks;
    },
  };
}

/**
 * Collects re-emitted bytes of one input chunk; copies, since line views are only valid during the
 * callback. Its buffer is allocated on first use and grows to what a chunk needs (most chunks of a stream
 * are re-emitted as themselves and never come here).
 */
class OutputBuilder {
  private buffer: Uint8Array | undefined;
  private length = 0;

  write(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (this.buffer === undefined || needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, (this.buffer?.length ?? 512) * 2));
      if (this.buffer !== undefined) grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  take(): Uint8Array | undefined {
    if (this.length === 0 || this.buffer === undefined) return undefined;
    const bytes = this.buffer.slice(0, this.length);
    this.length = 0;
    if (this.buffer.length > 1024 * 1024) this.buffer = undefined;
    return bytes;
  }
}
