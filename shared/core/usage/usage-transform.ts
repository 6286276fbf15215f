import { StrippingUsageTransform } from './stripping-usage-transform.js';
import {
  createUsageTap,
  type UsageFinishOptions,
  type UsageTap,
  type UsageTapOptions,
  type UsageTapStats,
} from './usage-tap.js';
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
  if (format.framing !== 'sse' || options.stripUsageOnlyChunk !== true)
    return observingTransform(createUsageTap(format, options));
  return new StrippingUsageTransform(format, options);
}

/** Without stripping: chunks pass through unchanged and unbuffered, the tap only observes. */
function observingTransform(tap: UsageTap): UsageTransform {
  return new ObservingTransform(tap);
}

/**
 * A class, not an object literal with a getter: a literal with an accessor is built on V8's slow path, once per
 * metered answer.
 */
class ObservingTransform implements UsageTransform {
  readonly strippedChunks = 0;
  private web: TransformStream<Uint8Array, Uint8Array> | undefined;

  constructor(private readonly tap: UsageTap) {}

  /** Built on first use: the engine relays async iterables and never needs it. */
  get stream(): TransformStream<Uint8Array, Uint8Array> {
    const tap = this.tap;
    return (this.web ??= new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tap.observe(chunk);
        controller.enqueue(chunk);
      },
    }));
  }

  get stats(): UsageTapStats {
    return this.tap.stats;
  }

  /** A bound field, as the stripping transform's (`const { finish } = transform` keeps working). */
  readonly finish = (options?: UsageFinishOptions): UsageReading => this.tap.finish(options);

  push(chunk: Uint8Array): Uint8Array | undefined {
    this.tap.observe(chunk);
    return chunk;
  }

  end(): Uint8Array | undefined {
    return undefined;
  }
}
