import { LineSplitter } from './line-splitter.js';
import { OutputBuilder } from './output-builder.js';
import { SseUsageMeter } from './sse-usage-meter.js';
import type { UsageFormat } from './usage-format.js';
import type { UsageReading } from './usage-reading.js';
import type { UsageFinishOptions, UsageTapStats } from './usage-tap.js';
import type { UsageTransform, UsageTransformOptions } from './usage-transform.js';

/**
 * The metering transform that also strips the include_usage chunk the gateway injected from an SSE stream.
 * Output is re-emitted a complete line at a time, byte-exact (CRLF kept), so an unfinished line is held
 * until its newline arrives (≤ `maxLineBytes`; a longer line is passed through unbuffered). A stripped
 * event's terminating blank line goes with it.
 *
 * Fast paths: whole lines before the first usage object pass through as they are, unsplit; a chunk that
 * starts with no held line and ends with LF is re-emitted as itself, minus the byte ranges of stripped lines
 * (every line is then a view into that chunk), copied once into a buffer of the exact size. Other chunks are
 * rebuilt.
 *
 * @example
 * const meter = new StrippingUsageTransform(format, { stripUsageOnlyChunk: true, estimator });
 * const forward = meter.push(chunk); // undefined: nothing to forward yet
 */
export class StrippingUsageTransform implements UsageTransform {
  readonly stats: UsageTapStats = { bytes: 0, droppedLines: 0, usageMessages: 0 };
  private readonly meter: SseUsageMeter;
  private readonly out = new OutputBuilder();
  private readonly splitter: LineSplitter;
  private readonly estimatePromptTokens: (() => number | undefined) | undefined;
  private dropNextBlank = false;
  private ended = false;
  private finished: UsageReading | undefined;
  private stripped = 0;
  /** The chunk being re-emitted as itself (fast path), while it is split. */
  private clean: Uint8Array | undefined;
  /** Byte ranges of `clean` to leave out, as (offset, length) pairs. */
  private readonly excised: number[] = [];
  private webStream: TransformStream<Uint8Array, Uint8Array> | undefined;

  constructor(format: UsageFormat, options: UsageTransformOptions) {
    this.meter = new SseUsageMeter(format.api, {
      estimator: options.estimator,
      requestModel: options.requestModel,
      maxEstimateTextChars: options.maxEstimateTextChars,
      maxEstimateRetainBytes: options.maxEstimateRetainBytes,
    });
    this.estimatePromptTokens = options.estimatePromptTokens;
    this.splitter = new LineSplitter((line, raw) => this.onLine(line, raw), {
      maxLineBytes: options.maxLineBytes,
      onOverflow: (bytes) => this.clean === undefined && this.out.write(bytes),
    });
  }

  get stream(): TransformStream<Uint8Array, Uint8Array> {
    return (this.webStream ??= new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        const bytes = this.push(chunk);
        if (bytes !== undefined) controller.enqueue(bytes);
      },
      flush: (controller) => {
        const bytes = this.end();
        if (bytes !== undefined) controller.enqueue(bytes);
      },
    }));
  }

  get strippedChunks(): number {
    return this.stripped;
  }

  readonly push = (chunk: Uint8Array): Uint8Array | undefined => {
    if (this.ended) return undefined;
    this.stats.bytes += chunk.length;
    if (chunk.length === 0) return undefined;
    const { splitter, out } = this;
    // A chunk of whole lines (not inside a line before it — neither held nor an over-long one passing through —
    // and LF at its end) is re-emitted as itself minus the stripped lines; the lines of any other chunk are
    // rebuilt in `out`.
    this.clean = !splitter.midLine && chunk[chunk.length - 1] === 0x0a ? chunk : undefined;
    // Whole lines before the first usage object pass through as they are, unsplit (the usage-only chunk to hide
    // holds a usage object, so it is never among them): only the rest is split, its stripped lines cut from the
    // whole chunk (their offsets count from its start).
    let rest = chunk;
    if (!this.dropNextBlank && this.clean !== undefined) {
      const metered = this.meter.leadingLines(chunk);
      if (metered === chunk.length) return chunk;
      if (metered > 0) rest = chunk.subarray(metered);
    }
    splitter.push(rest);
    this.stats.droppedLines = splitter.droppedLines;
    const bytes = this.clean === undefined ? out.take() : this.cleanOutput(this.clean);
    this.clean = undefined;
    return bytes;
  };

  readonly end = (): Uint8Array | undefined => {
    this.endInput();
    return this.out.take();
  };

  readonly finish = (finishOptions: UsageFinishOptions = {}): UsageReading => {
    if (this.finished === undefined) {
      this.endInput();
      this.out.take();
      this.finished = this.meter.result(finishOptions.estimate ?? true, this.estimatePromptTokens);
      this.stats.usageMessages = this.meter.usageMessages;
    }
    return this.finished;
  };

  private onLine(line: Uint8Array, raw: Uint8Array): void {
    if (this.meter.line(line)) {
      this.stripped++;
      this.dropNextBlank = true; // the event's terminating blank line goes too
      this.drop(raw);
      return;
    }
    if (this.dropNextBlank) {
      this.dropNextBlank = false;
      if (line.length === 0) {
        this.drop(raw);
        return;
      }
    }
    if (this.clean === undefined) this.out.write(raw);
  }

  private drop(raw: Uint8Array): void {
    if (this.clean !== undefined) this.excised.push(raw.byteOffset - this.clean.byteOffset, raw.length);
  }

  private endInput(): void {
    if (this.ended) return;
    this.ended = true;
    this.splitter.end();
    this.stats.droppedLines = this.splitter.droppedLines;
  }

  private cleanOutput(chunk: Uint8Array): Uint8Array | undefined {
    const { excised, out } = this;
    if (excised.length === 0 && out.empty) return chunk;
    let kept = chunk.length;
    for (let i = 1; i < excised.length; i += 2) kept -= excised[i] ?? 0;
    // Sized to the byte: the output goes out as the builder's buffer, with no second copy.
    if (kept > 0) out.reserve(kept);
    let at = 0;
    for (let i = 0; i < excised.length; i += 2) {
      const start = excised[i] ?? 0;
      if (start > at) out.write(chunk.subarray(at, start));
      at = start + (excised[i + 1] ?? 0);
    }
    if (at < chunk.length) out.write(chunk.subarray(at));
    excised.length = 0;
    return out.take();
  }
}
