import { Buffer } from 'node:buffer';
import type { TokenEstimator } from '../../ports/token-estimator.js';
import { KeptReads } from '../kept-reads.js';
import { ByteNeedle } from './byte-needle.js';
import { CompletionTextTally } from './completion-text-tally.js';
import { bufferView, findUsageObject, findUsageObjectKey, forEachStringValue } from './json-scan.js';
import { findUsageCarrier, normaliseCarrier } from './normalise-usage.js';
import type { UsageApi } from './usage-format.js';
import {
  finaliseUsageReading,
  mergePartialUsage,
  type PartialUsage,
  type UsageEstimates,
  type UsageReading,
} from './usage-reading.js';

/** Non-streaming decodes only, so one decoder serves every meter (constructing one per call costs). */
const sharedDecoder = new TextDecoder();

const MODEL_KEY = new ByteNeedle('"model', 1);
const DATA = [0x64, 0x61, 0x74, 0x61, 0x3a] as const; // "data:"
const DONE = Buffer.from('[DONE]');
/** Data lines parsed just to learn the served model when no usage line names it. */
const MAX_MODEL_PROBES = 8;

/** The JSON keys whose string values are completion text, per API (for estimates). */
const TEXT_KEYS: Record<UsageApi, readonly string[]> = {
  'openai-chat': ['content', 'arguments', 'refusal', 'reasoning_content'],
  'openai-completions': ['text'],
  'openai-responses': ['delta'],
  'openai-embeddings': [],
  'anthropic-messages': ['text', 'partial_json', 'thinking'],
  gemini: ['text'],
  unknown: ['content', 'text'],
};

/** {@link TEXT_KEYS} as the quoted byte needles the scan searches for, made once per API (not per meter). */
const textKeyNeedles = new Map<UsageApi, readonly ByteNeedle[]>();

function needlesOf(api: UsageApi): readonly ByteNeedle[] {
  let needles = textKeyNeedles.get(api);
  if (needles === undefined) {
    needles = TEXT_KEYS[api].map((k) => new ByteNeedle(`"${k}"`, 1));
    textKeyNeedles.set(api, needles);
  }
  return needles;
}

/** Options of {@link SseUsageMeter}. */
export interface SseUsageMeterOptions {
  /** Counts streamed completion text when the backend reports no completion figure. */
  estimator?: TokenEstimator | undefined;
  /** The model asked for, to choose the estimator's encoding. */
  requestModel?: string | undefined;
  /** Bound on completion text held for an estimate, in UTF-16 characters. */
  maxEstimateTextChars?: number | undefined;
  /**
   * Bound on raw data lines retained for a lazy estimate, in bytes (default {@link DEFAULT_MAX_ESTIMATE_RETAIN_BYTES}).
   */
  maxEstimateRetainBytes?: number | undefined;
}

/** Default bound on raw data lines retained for a lazy completion estimate: 128 KiB. */
export const DEFAULT_MAX_ESTIMATE_RETAIN_BYTES = 128 * 1024;

/**
 * Meters usage from SSE lines of one response. The hot path per line is a prefix check and one native
 * byte search for `usage` with its leading quote checked after (ADR 0083); only lines whose
 * `usage`/`usageMetadata` value is an object are decoded and parsed (`"usage": null` chunks are not), plus the
 * first few data lines until the served model is known.
 * The last usage seen wins, field by field (Anthropic's `message_start` input + `message_delta` output).
 */
export class SseUsageMeter {
  /** Usage-carrying messages parsed. */
  usageMessages = 0;
  /** Data lines that could not be parsed although they looked like usage. */
  malformedLines = 0;
  private reported: PartialUsage = {};
  private model: string | undefined;
  private modelProbes = 0;
  private pendingGeminiLine: Uint8Array | undefined;
  private readonly decoder = sharedDecoder;
  private readonly tally: CompletionTextTally | undefined;
  private readonly textKeys: readonly ByteNeedle[];
  private readonly onText = (text: string): void => this.tally?.add(text);
  private readonly maxRetainBytes: number;
  /** The data lines retained for a lazy estimate, each kept as its difference from the one before. */
  private retained: KeptReads | undefined;
  /** Bytes the retained lines stand for, one LF after each (what a scan of them reads). */
  private retainedLength = 0;

  constructor(
    private readonly api: UsageApi,
    options: SseUsageMeterOptions = {},
  ) {
    this.tally =
      options.estimator === undefined
        ? undefined
        : new CompletionTextTally(options.estimator, options.requestModel, options.maxEstimateTextChars);
    this.textKeys = this.tally === undefined ? [] : needlesOf(api);
    this.maxRetainBytes = options.maxEstimateRetainBytes ?? DEFAULT_MAX_ESTIMATE_RETAIN_BYTES;
  }

  /**
   * Meters one line (terminator removed). Returns true when the line is an OpenAI include_usage chunk
   * (`choices: []` with a non-null `usage`), which a stripping transform may hide from the caller.
   */
  line(line: Uint8Array): boolean {
    if (
      line.length < 6 ||
      line[0] !== DATA[0] ||
      line[1] !== DATA[1] ||
      line[2] !== DATA[2] ||
      line[3] !== DATA[3] ||
      line[4] !== DATA[4]
    ) {
      return false; // blank keep-alive, `:` comment, `event:`, `id:`, `retry:`
    }
    const payload = bufferView(line).subarray(line[5] === 0x20 ? 6 : 5);
    const usageKey = findUsageObjectKey(payload);
    if (usageKey === 'usage') return this.parseUsageLine(payload);
    if (usageKey === 'usageMetadata') {
      // Gemini repeats a cumulative usageMetadata on every chunk: keep a copy of the latest, parse it once.
      this.pendingGeminiLine = new Uint8Array(payload); // a copy: `payload` is a view valid only now
      this.extractText(payload);
      return false;
    }
    if (
      this.model === undefined &&
      this.modelProbes < MAX_MODEL_PROBES &&
      MODEL_KEY.indexIn(bufferView(payload)) >= 0
    ) {
      this.modelProbes++;
      const message = this.parse(payload);
      if (message !== undefined) this.model = findUsageCarrier(message).model;
    }
    this.extractText(payload);
    return false;
  }

  /**
   * Meters, in one step, the leading whole lines of a chunk of complete lines that cannot matter line by
   * line: everything before the line holding the first usage object (one native byte search; Azure's
   * `"usage": null` does not count), once the served model is known. Their bytes are kept for a possible
   * estimate as they are. Returns how many leading bytes were metered (the whole chunk when it holds no
   * usage object); the rest must go through {@link line}. Content deltas — most of a stream — take this path.
   */
  leadingLines(bytes: Uint8Array): number {
    if (this.model === undefined && this.modelProbes < MAX_MODEL_PROBES) this.probeModel(bytes);
    if (this.model === undefined && this.modelProbes < MAX_MODEL_PROBES) return 0;
    const usage = findUsageObject(bytes);
    const end = usage === undefined ? bytes.length : bufferView(bytes).lastIndexOf(0x0a, usage.at) + 1;
    if (end > 0) this.extractText(end === bytes.length ? bytes : bytes.subarray(0, end));
    return end;
  }

  /** Learns the served model from the first data lines of a chunk that name one (at most the probe budget). */
  private probeModel(bytes: Uint8Array): void {
    const view = bufferView(bytes);
    let start = 0;
    for (
      let lines = 0;
      start < bytes.length &&
      lines < MAX_MODEL_PROBES &&
      this.model === undefined &&
      this.modelProbes < MAX_MODEL_PROBES;
      lines++
    ) {
      const lf = view.indexOf(0x0a, start);
      const end = lf < 0 ? bytes.length : lf;
      const line = view.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
      if (
        line.length >= 6 &&
        line[0] === DATA[0] &&
        line[1] === DATA[1] &&
        line[2] === DATA[2] &&
        line[3] === DATA[3] &&
        line[4] === DATA[4]
      ) {
        const payload = line.subarray(line[5] === 0x20 ? 6 : 5);
        if (MODEL_KEY.indexIn(bufferView(payload)) >= 0) {
          this.modelProbes++;
          const message = this.parse(payload);
          if (message !== undefined) this.model = findUsageCarrier(message).model;
        }
      }
      start = end + 1;
    }
  }

  /** The reading so far; estimates fill only what was not reported (and only when `estimate` is true). */
  result(estimate: boolean, promptEstimate?: () => number | undefined): UsageReading {
    this.settlePending();
    return finaliseUsageReading(this.reported, this.model ?? null, estimate ? this.estimates(promptEstimate) : {});
  }

  private estimates(promptEstimate: (() => number | undefined) | undefined): UsageEstimates {
    const r = finaliseUsageReading(this.reported, null);
    return {
      promptTokens: r.promptSource === 'reported' ? undefined : promptEstimate?.(),
      completionTokens:
        r.completionSource === 'reported' || this.tally === undefined ? undefined : this.drainedTally(this.tally),
    };
  }

  private drainedTally(tally: CompletionTextTally): number {
    this.drainRetained();
    return tally.tokens();
  }

  private parseUsageLine(payload: Uint8Array): boolean {
    const message = this.parse(payload);
    if (message === undefined) {
      this.malformedLines++;
      return false;
    }
    const carrier = findUsageCarrier(message);
    if (carrier.model !== undefined) this.model = carrier.model;
    const usage = normaliseCarrier(this.api, carrier);
    if (usage !== undefined) {
      this.usageMessages++;
      this.reported = mergePartialUsage(this.reported, usage);
    }
    // A usage line may also carry content (some OpenAI-compatible servers put both in the last chunk).
    if (!carrier.usageOnly) this.extractText(payload);
    return carrier.usageOnly;
  }

  /**
   * Completion text for an estimate is extracted lazily: data lines are kept ({@link KeptReads}: a chat chunk
   * differs from the one before in its token, so it keeps a few bytes, not its ~200) up to a bound on the bytes
   * they stand for, and only scanned for text — rebuilt LF-separated, as one buffer — when the bound is reached or
   * when an estimate is needed at the end. A stream whose usage is reported never pays for text extraction unless
   * it is long, and an open stream holds a few bytes per line, not the lines.
   */
  private extractText(payload: Uint8Array): void {
    if (this.tally === undefined) return;
    if (payload.length + 1 > this.maxRetainBytes) {
      this.scanText(payload);
      return;
    }
    if (this.retainedLength + payload.length + 1 > this.maxRetainBytes) this.drainRetained();
    (this.retained ??= new KeptReads()).add(payload);
    this.retainedLength += payload.length + 1;
  }

  private drainRetained(): void {
    const retained = this.retained;
    if (retained === undefined || this.retainedLength === 0) return;
    const lines = Buffer.allocUnsafe(this.retainedLength);
    let at = 0;
    retained.forEach((line) => {
      lines.set(line, at);
      at += line.length;
      lines[at++] = 0x0a;
    });
    retained.clear();
    this.retainedLength = 0;
    this.scanText(lines);
  }

  private scanText(bytes: Uint8Array): void {
    for (const key of this.textKeys) forEachStringValue(bytes, key, this.onText);
  }

  private settlePending(): void {
    const pending = this.pendingGeminiLine;
    if (pending === undefined) return;
    this.pendingGeminiLine = undefined;
    const message = this.parse(pending);
    if (message === undefined) {
      this.malformedLines++;
      return;
    }
    const carrier = findUsageCarrier(message);
    if (carrier.model !== undefined) this.model = carrier.model;
    const usage = normaliseCarrier(this.api, carrier);
    if (usage !== undefined) {
      this.usageMessages++;
      this.reported = mergePartialUsage(this.reported, usage);
    }
  }

  private parse(payload: Uint8Array): unknown {
    if (payload.length === DONE.length && bufferIncludes(payload, DONE)) return undefined;
    try {
      return JSON.parse(this.decoder.decode(payload));
    } catch {
      return undefined;
    }
  }
}

function bufferIncludes(bytes: Uint8Array, needle: Buffer): boolean {
  return bufferView(bytes).indexOf(needle) >= 0;
}
