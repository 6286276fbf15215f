import type { TokenEstimator } from '../../ports/token-estimator.js';
import { JsonUsageMeter } from './json-usage-meter.js';
import { LineSplitter } from './line-splitter.js';
import { SseUsageMeter } from './sse-usage-meter.js';
import type { UsageFormat } from './usage-format.js';
import type { UsageReading } from './usage-reading.js';

/** Options of {@link createUsageTap} and {@link createUsageTransform}. */
export interface UsageTapOptions {
  /**
   * Tokenizer for estimates. Without it nothing is estimated: unreported figures stay 0 with source `none`.
   */
  estimator?: TokenEstimator | undefined;
  /** The model the caller asked for: picks the estimator's encoding. */
  requestModel?: string | undefined;
  /**
   * Called at most once, only when the backend reported no prompt figure: the estimated prompt tokens of
   * the request (e.g. `() => estimatePromptTokens(body, estimator, model)`). Lazy so that the common case
   * (usage reported) never tokenizes the prompt.
   */
  estimatePromptTokens?: (() => number | undefined) | undefined;
  /** SSE: the longest line kept, in bytes (default 1 MiB); longer lines are dropped and counted. */
  maxLineBytes?: number | undefined;
  /** SSE: completion text held for an estimate before it is counted and released (default 64 Ki chars). */
  maxEstimateTextChars?: number | undefined;
  /** SSE: raw data lines retained for a lazy completion estimate (default 128 KiB). */
  maxEstimateRetainBytes?: number | undefined;
  /** JSON: bodies up to this size are parsed whole (default 1 MiB). */
  maxWholeJsonBytes?: number | undefined;
  /** JSON: head kept of a larger body (default 16 KiB). */
  jsonHeadBytes?: number | undefined;
  /** JSON: tail kept of a larger body (default 64 KiB). */
  jsonTailBytes?: number | undefined;
}

/** Options of {@link UsageTap.finish}. */
export interface UsageFinishOptions {
  /**
   * Fill unreported figures with estimates (default true). Pass false for responses that are not billable
   * completions (a 4xx/5xx error body), so that an error never gets an estimated prompt charge.
   */
  estimate?: boolean;
}

/** Counters of a tap, for telemetry. */
export interface UsageTapStats {
  /** Bytes observed. */
  bytes: number;
  /** SSE lines longer than the bound, dropped unread. */
  droppedLines: number;
  /** Messages that carried a usage object. */
  usageMessages: number;
}

/** A passive usage meter on a response byte stream. */
export interface UsageTap {
  /** Observes the next chunk of the response body exactly as the backend sent it. Never throws. */
  observe(chunk: Uint8Array): void;
  /** Ends observation and returns the reading. Idempotent: later calls return the same reading. */
  finish(options?: UsageFinishOptions): UsageReading;
  /** Counters so far. */
  readonly stats: UsageTapStats;
}

/**
 * Creates a passive usage tap for a response of the given format. Put `observe` on every body chunk (it
 * copies nothing for SSE content lines and parses only usage-carrying lines) and call `finish` when the
 * body ends, is cut, or the caller aborts — a cut stream yields what was reported so far plus estimates.
 *
 * Memory: SSE holds the unfinished line (≤ `maxLineBytes`), and with an estimator ≤ `maxEstimateRetainBytes`
 * of raw lines plus ≤ `maxEstimateTextChars` of text; JSON holds
 * ≤ `max(maxWholeJsonBytes, jsonHeadBytes + jsonTailBytes)` bytes.
 *
 * @example
 * const tap = createUsageTap(detectUsageFormat(url.pathname, res.headers.get('content-type')), {
 *   estimator, requestModel: 'gpt-4o', estimatePromptTokens: () => estimatePromptTokens(body, estimator, 'gpt-4o'),
 * });
 * for await (const chunk of res.body) tap.observe(chunk);
 * const reading = tap.finish({ estimate: res.ok });
 */
export function createUsageTap(format: UsageFormat, options: UsageTapOptions = {}): UsageTap {
  const stats: UsageTapStats = { bytes: 0, droppedLines: 0, usageMessages: 0 };
  let finished: UsageReading | undefined;

  if (format.framing === 'json') {
    const meter = new JsonUsageMeter(format.api, {
      maxWholeBytes: options.maxWholeJsonBytes,
      headBytes: options.jsonHeadBytes,
      tailBytes: options.jsonTailBytes,
      estimator: options.estimator,
      requestModel: options.requestModel,
    });
    return {
      stats,
      observe(chunk) {
        if (finished !== undefined) return;
        stats.bytes += chunk.length;
        meter.push(chunk);
      },
      finish(finishOptions = {}) {
        if (finished === undefined) {
          finished = meter.result(finishOptions.estimate ?? true, options.estimatePromptTokens);
          stats.usageMessages =
            finished.promptSource === 'reported' || finished.completionSource === 'reported' ? 1 : 0;
        }
        return finished;
      },
    };
  }

  const meter = new SseUsageMeter(format.api, {
    estimator: options.estimator,
    requestModel: options.requestModel,
    maxEstimateTextChars: options.maxEstimateTextChars,
    maxEstimateRetainBytes: options.maxEstimateRetainBytes,
  });
  const splitter = new LineSplitter((line) => void meter.line(line), { maxLineBytes: options.maxLineBytes });
  return {
    stats,
    observe(chunk) {
      if (finished !== undefined) return;
      stats.bytes += chunk.length;
      // Whole lines with nothing to meter line by line skip the splitter.
      if (splitter.bufferedBytes === 0 && chunk.length > 0 && chunk[chunk.length - 1] === 0x0a) {
        const metered = meter.leadingLines(chunk);
        if (metered === chunk.length) return;
        if (metered > 0) chunk = chunk.subarray(metered);
      }
      splitter.push(chunk);
      stats.droppedLines = splitter.droppedLines;
    },
    finish(finishOptions = {}) {
      if (finished === undefined) {
        splitter.end();
        finished = meter.result(finishOptions.estimate ?? true, options.estimatePromptTokens);
        stats.droppedLines = splitter.droppedLines;
        stats.usageMessages = meter.usageMessages;
      }
      return finished;
    },
  };
}
