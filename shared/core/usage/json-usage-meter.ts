import type { TokenEstimator } from '../../ports/token-estimator.js';
import { CompletionTextTally } from './completion-text-tally.js';
import { lastObjectValue, stringValue } from './json-scan.js';
import { findUsageCarrier, normaliseCarrier, normaliseUsage } from './normalise-usage.js';
import type { UsageApi } from './usage-format.js';
import { finaliseUsageReading, mergePartialUsage, type PartialUsage, type UsageReading } from './usage-reading.js';
import { concatBytes } from '../concat-bytes.js';

/** Non-streaming decodes only, so one decoder serves every meter (constructing one per call costs). */
const sharedDecoder = new TextDecoder();

/** Default: bodies up to 1 MiB are kept whole and parsed with JSON.parse. */
export const DEFAULT_MAX_WHOLE_JSON_BYTES = 1024 * 1024;
/** Default head kept of a larger body (where `model`, `id` sit): 16 KiB. */
export const DEFAULT_JSON_HEAD_BYTES = 16 * 1024;
/** Default tail kept of a larger body (where `usage` sits): 64 KiB. */
export const DEFAULT_JSON_TAIL_BYTES = 64 * 1024;

/** Options of {@link JsonUsageMeter}; memory is bounded by `max(maxWholeBytes, headBytes + tailBytes)`. */
export interface JsonUsageMeterOptions {
  maxWholeBytes?: number | undefined;
  headBytes?: number | undefined;
  tailBytes?: number | undefined;
  estimator?: TokenEstimator | undefined;
  requestModel?: string | undefined;
}

/**
 * Meters usage from a JSON body (a non-streamed response, or Gemini's streamed JSON array without
 * `alt=sse`). A body up to `maxWholeBytes` is parsed whole. Past that the whole copy is released and only a
 * bounded head and tail are kept: `usage` / `usageMetadata` is found as the last such object in the tail
 * (string-aware brace matching), the model in the head (or, for embeddings, in the tail).
 */
export class JsonUsageMeter {
  private readonly maxWholeBytes: number;
  private readonly headBytes: number;
  private readonly tailBytes: number;
  private whole: Uint8Array[] | undefined = [];
  private head: Uint8Array[] = [];
  private headLength = 0;
  private tail: Uint8Array[] = [];
  private tailLength = 0;
  /** Bytes seen. */
  totalBytes = 0;

  constructor(
    private readonly api: UsageApi,
    private readonly options: JsonUsageMeterOptions = {},
  ) {
    this.maxWholeBytes = options.maxWholeBytes ?? DEFAULT_MAX_WHOLE_JSON_BYTES;
    this.headBytes = options.headBytes ?? DEFAULT_JSON_HEAD_BYTES;
    this.tailBytes = options.tailBytes ?? DEFAULT_JSON_TAIL_BYTES;
  }

  /** Bytes currently held (for tests of the memory bound). */
  get heldBytes(): number {
    return this.whole !== undefined ? this.totalBytes : this.headLength + this.tailLength;
  }

  /** Feeds the next chunk of the body. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.totalBytes += chunk.length;
    if (this.whole !== undefined) {
      this.whole.push(new Uint8Array(chunk)); // copies (Buffer#slice would not)
      if (this.totalBytes <= this.maxWholeBytes) return;
      const held = this.whole;
      this.whole = undefined;
      for (const piece of held) this.pushHeadTail(piece);
      return;
    }
    this.pushHeadTail(chunk);
  }

  /** The reading; estimates (when `estimate`) fill what was not reported. */
  result(estimate: boolean, promptEstimate?: () => number | undefined): UsageReading {
    const decoder = sharedDecoder;
    let reported: PartialUsage = {};
    let model: string | undefined;
    let doc: unknown;
    let parsedWhole = false;
    if (this.whole !== undefined) {
      try {
        doc = JSON.parse(decoder.decode(concatBytes(this.whole)));
        parsedWhole = true;
        // Gemini's streamed array: every element may carry cumulative usage; the last wins, field by field.
        for (const message of Array.isArray(doc) ? doc : [doc]) {
          const carrier = findUsageCarrier(message);
          model = carrier.model ?? model;
          const usage = normaliseCarrier(this.api, carrier);
          if (usage !== undefined) reported = mergePartialUsage(reported, usage);
        }
      } catch {
        parsedWhole = false;
      }
    }
    if (!parsedWhole) {
      const headText =
        this.whole !== undefined ? decoder.decode(concatBytes(this.whole)) : decoder.decode(concatBytes(this.head));
      const tailText = this.whole !== undefined ? headText : decoder.decode(concatBytes(this.tail));
      const found = lastObjectValue(tailText, ['usage', 'usageMetadata']);
      if (found !== undefined) reported = normaliseUsage(this.api, found.value) ?? {};
      model =
        stringValue(headText, 'model', 'first') ??
        stringValue(headText, 'modelVersion', 'first') ??
        stringValue(tailText, 'model', 'last') ??
        stringValue(tailText, 'modelVersion', 'last');
    }
    const reading = finaliseUsageReading(reported, model ?? null);
    if (!estimate) return reading;
    let completionTokens: number | undefined;
    // The answer's text is gathered only when its tokens are to be estimated (a backend that reported none).
    const estimator = this.options.estimator;
    if (reading.completionSource !== 'reported' && parsedWhole && estimator !== undefined)
      completionTokens = this.completionEstimate(doc, estimator);
    return finaliseUsageReading(reported, model ?? null, {
      promptTokens: reading.promptSource === 'reported' ? undefined : promptEstimate?.(),
      completionTokens,
    });
  }

  /**
   * The answer's completion tokens, estimated from its text; undefined when the text cannot be gathered (an
   * answer nested deeper than the stack allows): the reading then goes without an estimate, as for an answer
   * that is not JSON, rather than failing the call's record.
   */
  private completionEstimate(doc: unknown, estimator: TokenEstimator): number | undefined {
    const tally = new CompletionTextTally(estimator, this.options.requestModel);
    try {
      for (const t of collectCompletionText(doc)) tally.add(t);
    } catch {
      return undefined;
    }
    return tally.tokens();
  }

  private pushHeadTail(chunk: Uint8Array): void {
    let rest = chunk;
    if (this.headLength < this.headBytes) {
      const take = Math.min(this.headBytes - this.headLength, rest.length);
      this.head.push(new Uint8Array(rest.subarray(0, take)));
      this.headLength += take;
      rest = rest.subarray(take);
      if (rest.length === 0) return;
    }
    // Copy only the last tailBytes of a big chunk, so a view never pins a large buffer.
    const piece = new Uint8Array(rest.length > this.tailBytes ? rest.subarray(rest.length - this.tailBytes) : rest);
    this.tail.push(piece);
    this.tailLength += piece.length;
    while (this.tail.length > 1 && this.tailLength - (this.tail[0]?.length ?? 0) >= this.tailBytes) {
      this.tailLength -= this.tail.shift()?.length ?? 0;
    }
  }
}

type Json = Record<string, unknown>;
function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function texts(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) texts(v, out);
  else if (isObject(value)) {
    if (typeof value.text === 'string') out.push(value.text);
    if (typeof value.content === 'string') out.push(value.content);
    else if (value.content !== undefined) texts(value.content, out);
    if (Array.isArray(value.parts)) texts(value.parts, out);
    if (isObject(value.function) && typeof value.function.arguments === 'string') out.push(value.function.arguments);
    if (Array.isArray(value.tool_calls)) texts(value.tool_calls, out);
  }
}

/** The completion text of a whole non-streamed body, any provider shape. */
function collectCompletionText(doc: unknown): string[] {
  const out: string[] = [];
  for (const message of Array.isArray(doc) ? doc : [doc]) {
    if (!isObject(message)) continue;
    if (Array.isArray(message.choices)) {
      for (const c of message.choices) {
        if (!isObject(c)) continue;
        if (typeof c.text === 'string') out.push(c.text);
        if (c.message !== undefined) texts(c.message, out);
      }
    }
    if (Array.isArray(message.candidates)) {
      for (const c of message.candidates) if (isObject(c)) texts(c.content, out);
    }
    if (message.type === 'message' && Array.isArray(message.content)) texts(message.content, out);
    if (Array.isArray(message.output)) texts(message.output, out);
  }
  return out;
}
