import { planChatAnswer, planResponsesAnswer, type PlanResult } from './answer-plan.js';
import type { FaultSpec } from './fault-spec.js';
import type { Generation } from './generation.js';
import type { GenerateRoute } from './route-table.js';
import { continuedTokens, countPromptTokens, type ApiKind } from './token-count.js';

/** The runtime settings a generation reads (the rest of the simulator's settings do not shape an answer). */
export interface GenerationSettings {
  readonly latencyMs: number;
  readonly firstTokenDelayMs: number;
  readonly tokensPerSecond: number;
  readonly defaultCompletionTokens: number;
  readonly embeddingDimensions: number;
  readonly servedModel: string | null;
  readonly continuePrefill: boolean;
}

/** What one generate request asks for, with the fault spec and settings that apply to it. */
export interface GenerationRequest {
  readonly route: GenerateRoute;
  readonly body: Record<string, unknown>;
  readonly params: URLSearchParams | null;
  /** The model the request named (its fault suffix removed), null when it named none. */
  readonly model: string | null;
  readonly spec: FaultSpec;
  readonly settings: GenerationSettings;
}

/** How fast an answer comes: the delay before its first token, its pace, and its whole time unstreamed. */
export interface Pace {
  readonly tokensPerSecond: number;
  readonly firstTokenDelayMs: number;
  readonly generationMs: number;
}

/** A generation planned, or the 400 to answer instead (an impossible `n`, tools or response format). */
export type GenerationPlan =
  | { readonly ok: true; readonly g: Generation; readonly pace: Pace; readonly maxTokens: number | null }
  | { readonly ok: false; readonly message: string; readonly param: string };

export function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

/** The model reported as having answered: the spec's, the settings', the one asked for, or `simulator`. */
export const reportedModel = (request: GenerationRequest): string =>
  request.spec.servedModel ?? request.settings.servedModel ?? request.model ?? 'simulator';

/** An embedding's dimensions: the spec's, the request's (at most 4,096), or the settings'. */
export function embeddingDimensions(request: GenerationRequest): number {
  const asked = positiveInt(request.body.dimensions);
  return request.spec.dimensions ?? (asked !== null ? Math.min(asked, 4096) : request.settings.embeddingDimensions);
}

/**
 * Plans a chat, completions, Responses, Anthropic or Gemini answer: its token counts (scripted, continued after
 * a prefill, cut by the request's max tokens, cached), its choices, tool call or JSON, and its pace.
 */
export function planGeneration(request: GenerationRequest, id: string, nowMs: number): GenerationPlan {
  const { route, body, spec, settings } = request;
  const api = route.api;
  const promptTokens = countPromptTokens(api, body);
  // A server that continues a final assistant message picks the answer up where the prefill ends.
  const continued =
    settings.continuePrefill && endsWithAssistant(api, body) ? continuedTokens(lastMessageText(body)) : 0;
  const scripted = Math.max(0, (spec.completionTokens ?? settings.defaultCompletionTokens) - continued);
  const planned = planAnswer(api, body, scripted);
  if (!planned.ok) return planned;
  const answer = planned.plan;
  // A tool call or a JSON schema answer is as long as its text; `tokens=` scripts plain text and json_object.
  const perChoice = answer?.pieces?.length ?? scripted;
  const maxTokens = maxTokensOf(api, body);
  const truncated = maxTokens !== null && maxTokens < perChoice;
  const cachedTokens = Math.min(spec.cachedTokens ?? 0, promptTokens);
  const g: Generation = {
    id,
    createdS: Math.floor(nowMs / 1000),
    model: reportedModel(request),
    promptTokens,
    completionTokens: (truncated ? (maxTokens as number) : perChoice) * (answer?.choices ?? 1),
    cachedTokens,
    cacheWriteTokens: Math.min(spec.cacheWriteTokens ?? 0, promptTokens - cachedTokens),
    reasoningTokens: spec.reasoningTokens ?? 0,
    truncated,
    includeUsage: includeUsage(api, body),
    azure: route.azure,
    sse: api !== 'gemini' || request.params?.get('alt') === 'sse',
    ...(answer === null ? {} : { answer }),
    tokenOffset: continued + (spec.textOffset ?? 0),
  };
  return { ok: true, g, pace: paceOf(request, g), maxTokens };
}

function paceOf({ spec, settings }: GenerationRequest, g: Generation): Pace {
  const tokensPerSecond = spec.tokensPerSecond ?? settings.tokensPerSecond;
  const firstTokenDelayMs = spec.firstTokenDelayMs ?? settings.firstTokenDelayMs;
  const generationMs = firstTokenDelayMs + (tokensPerSecond > 0 ? (g.completionTokens * 1000) / tokensPerSecond : 0);
  return { tokensPerSecond, firstTokenDelayMs, generationMs };
}

/** OpenAI `stream_options.include_usage: true` on a chat or completions request. */
function includeUsage(api: ApiKind, body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options;
  return (
    (api === 'chat' || api === 'completions') &&
    typeof streamOptions === 'object' &&
    streamOptions !== null &&
    (streamOptions as Record<string, unknown>).include_usage === true
  );
}

/** The answer plan of a chat or Responses request (`n`, tools, JSON); other APIs answer plain text. */
function planAnswer(api: ApiKind, body: Record<string, unknown>, tokens: number): PlanResult {
  if (api === 'chat') return planChatAnswer(body, tokens);
  if (api === 'responses') return planResponsesAnswer(body, tokens);
  return { ok: true, plan: null };
}

/** The request's limit on output tokens, in each API's own field; null when it sets none. */
export function maxTokensOf(api: ApiKind, body: Record<string, unknown>): number | null {
  switch (api) {
    case 'chat':
      return positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
    case 'completions':
    case 'anthropic':
      return positiveInt(body.max_tokens);
    case 'responses':
      return positiveInt(body.max_output_tokens);
    case 'gemini': {
      const config = body.generationConfig;
      return typeof config === 'object' && config !== null
        ? positiveInt((config as Record<string, unknown>).maxOutputTokens)
        : null;
    }
    case 'embeddings':
      return null;
  }
}

/** True for a chat request whose last message is the assistant's (a prefill to continue). */
export function endsWithAssistant(api: ApiKind | null, body: Record<string, unknown>): boolean {
  if (api !== 'chat' || !Array.isArray(body.messages)) return false;
  const last: unknown = body.messages.at(-1);
  return typeof last === 'object' && last !== null && (last as Record<string, unknown>).role === 'assistant';
}

/** The text of the last message (string content, or the text parts of an array). */
function lastMessageText(body: Record<string, unknown>): string {
  const content = ((body.messages as unknown[]).at(-1) as Record<string, unknown>).content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p === 'object' && p !== null && 'text' in p ? String(p.text) : '')).join('');
}
