import type { UsageApi } from './usage-format.js';
import type { PartialUsage } from './usage-reading.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.trunc(value) : undefined;
}

function put(out: PartialUsage, key: keyof PartialUsage, value: number | undefined): void {
  if (value !== undefined) out[key] = value;
}

function add(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

/**
 * Normalises one provider usage object into {@link PartialUsage}. The provider is recognised by its keys
 * (so an OpenAI-compatible endpoint behind an unknown path still meters), with `api` deciding the one
 * ambiguous case: `input_tokens` means *uncached* input for Anthropic but *all* input for OpenAI Responses.
 *
 * @example
 * normaliseUsage('openai-chat', { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
 * // → { promptTokens: 10, completionTokens: 2, totalTokens: 12 }
 */
export function normaliseUsage(api: UsageApi, usage: unknown): PartialUsage | undefined {
  if (!isObject(usage)) return undefined;
  const out: PartialUsage = {};
  if ('promptTokenCount' in usage || 'candidatesTokenCount' in usage || 'totalTokenCount' in usage) {
    // Gemini usageMetadata: thoughts are billed as output but reported apart from candidates.
    const thoughts = count(usage.thoughtsTokenCount);
    put(out, 'promptTokens', add(count(usage.promptTokenCount), count(usage.toolUsePromptTokenCount)));
    const candidates = count(usage.candidatesTokenCount);
    if (candidates !== undefined || thoughts !== undefined) put(out, 'completionTokens', add(candidates, thoughts));
    put(out, 'totalTokens', count(usage.totalTokenCount));
    put(out, 'cachedInputTokens', count(usage.cachedContentTokenCount));
    put(out, 'reasoningTokens', thoughts);
    return out;
  }
  if ('prompt_tokens' in usage || 'completion_tokens' in usage) {
    put(out, 'promptTokens', count(usage.prompt_tokens));
    put(out, 'completionTokens', count(usage.completion_tokens));
    put(out, 'totalTokens', count(usage.total_tokens));
    const pd = usage.prompt_tokens_details;
    if (isObject(pd)) put(out, 'cachedInputTokens', count(pd.cached_tokens));
    const cd = usage.completion_tokens_details;
    if (isObject(cd)) put(out, 'reasoningTokens', count(cd.reasoning_tokens));
    return out;
  }
  if ('input_tokens' in usage || 'output_tokens' in usage) {
    const anthropic =
      api === 'anthropic-messages' || 'cache_read_input_tokens' in usage || 'cache_creation_input_tokens' in usage;
    if (anthropic) {
      put(out, 'uncachedInputTokens', count(usage.input_tokens));
      put(out, 'cachedInputTokens', count(usage.cache_read_input_tokens));
      put(out, 'cacheCreationTokens', count(usage.cache_creation_input_tokens));
      put(out, 'completionTokens', count(usage.output_tokens));
      return out;
    }
    put(out, 'promptTokens', count(usage.input_tokens));
    put(out, 'completionTokens', count(usage.output_tokens));
    put(out, 'totalTokens', count(usage.total_tokens));
    const id = usage.input_tokens_details;
    if (isObject(id)) put(out, 'cachedInputTokens', count(id.cached_tokens));
    const od = usage.output_tokens_details;
    if (isObject(od)) put(out, 'reasoningTokens', count(od.reasoning_tokens));
    return out;
  }
  return undefined;
}

/**
 * {@link normaliseUsage} for a whole carrier: drops the placeholder output of Anthropic's `message_start`.
 */
export function normaliseCarrier(api: UsageApi, carrier: UsageCarrier): PartialUsage | undefined {
  const out = normaliseUsage(api, carrier.usage);
  if (out !== undefined && carrier.provisionalOutput) delete out.completionTokens;
  return out;
}

/** The usage object and model a parsed message carries, wherever the provider puts them. */
export interface UsageCarrier {
  usage: unknown;
  model: string | undefined;
  /** True for an OpenAI chat/completions chunk with `choices: []` and a non-null usage (the include_usage chunk). */
  usageOnly: boolean;
  /**
   * True for Anthropic `message_start`, whose `output_tokens` is a placeholder (1), not a count: only a
   * `message_delta` reports output, so a stream cut before it has an *unreported* completion.
   */
  provisionalOutput: boolean;
}

function modelOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Finds the usage object and model in one parsed message: OpenAI chat/completions/embeddings `usage`,
 * Responses events' `response.usage`, Anthropic `message_start`'s `message.usage` and `message_delta`'s
 * `usage`, Gemini `usageMetadata` (+ `modelVersion`).
 */
export function findUsageCarrier(message: unknown): UsageCarrier {
  if (!isObject(message)) return { usage: undefined, model: undefined, usageOnly: false, provisionalOutput: false };
  const response = isObject(message.response) ? message.response : undefined;
  const inner = isObject(message.message) ? message.message : undefined;
  const usage = message.usage ?? message.usageMetadata ?? response?.usage ?? inner?.usage;
  const model =
    modelOf(message.model) ?? modelOf(message.modelVersion) ?? modelOf(response?.model) ?? modelOf(inner?.model);
  const usageOnly = isObject(message.usage) && Array.isArray(message.choices) && message.choices.length === 0;
  return {
    usage: usage === null ? undefined : usage,
    model,
    usageOnly,
    provisionalOutput: message.type === 'message_start',
  };
}
