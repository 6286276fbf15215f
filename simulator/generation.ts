import type { AnswerPlan } from './answer-plan.js';
import { completionText, completionTokenText } from './token-count.js';

/**
 * The facts of one simulated answer, shared by every provider's renderer, and the renderer contract.
 */

/** Everything a renderer needs to write one answer. All counts are tokens. */
export interface Generation {
  /** Response id, already carrying the provider's prefix (`chatcmpl-`, `msg_`, `resp_`…). */
  readonly id: string;
  /** Creation time in whole seconds since the epoch. */
  readonly createdS: number;
  /** The model reported as having answered. */
  readonly model: string;
  readonly promptTokens: number;
  /** Visible completion tokens (one per streamed chunk), summed over the choices. */
  readonly completionTokens: number;
  /** Part of the prompt served from cache (≤ promptTokens). */
  readonly cachedTokens: number;
  /** Anthropic cache writes (≤ promptTokens − cachedTokens). */
  readonly cacheWriteTokens: number;
  /** Reasoning tokens, on top of the visible completion tokens. */
  readonly reasoningTokens: number;
  /** The completion was cut short by the request's max-tokens limit. */
  readonly truncated: boolean;
  /** OpenAI `stream_options.include_usage` was true. */
  readonly includeUsage: boolean;
  /** Azure OpenAI flavour. */
  readonly azure: boolean;
  /** Stream framing: SSE (true) or, for Gemini without `alt=sse`, a streamed JSON array (false). */
  readonly sse: boolean;
  /** Several choices, a tool call or a JSON answer (chat and Responses only); absent: one plain text choice. */
  readonly answer?: AnswerPlan;
  /** Chat completions: the index of the first word of the answer (a continued prefill, `text-offset`). */
  readonly tokenOffset?: number;
}

/** Choices in the answer (`n`). */
export function choiceCount(g: Generation): number {
  return g.answer?.choices ?? 1;
}

/** Completion tokens of one choice. */
export function choiceTokens(g: Generation): number {
  return g.completionTokens / choiceCount(g);
}

/** The text of token `k` of a choice: a piece of the planned answer, else a word of the simulator's list. */
export function pieceText(g: Generation, k: number): string {
  const pieces = g.answer?.pieces;
  return pieces ? (pieces[k] ?? '') : completionTokenText(k + (g.tokenOffset ?? 0));
}

/** The whole text of one choice: its content, or a tool call's `arguments` (cut short when truncated). */
export function choiceText(g: Generation): string {
  const pieces = g.answer?.pieces;
  const tokens = choiceTokens(g);
  return pieces ? pieces.slice(0, tokens).join('') : completionText(tokens, g.tokenOffset);
}

/** Stream frame `i` of an answer of several choices: choices take turns, one token each. */
export function frameOf(g: Generation, i: number): { readonly choice: number; readonly token: number } {
  const n = choiceCount(g);
  return { choice: i % n, token: Math.floor(i / n) };
}

/** The id of choice `choice`'s tool call (`call_…`), stable for a generation. */
export function toolCallId(g: Generation, choice: number): string {
  const suffix = g.id.replace(/^[a-z]+[-_]/, '');
  return `call_${suffix}${choice === 0 ? '' : `_${choice}`}`;
}

/** A stream as frames, so the driver can pace tokens and inject faults between them. */
export interface StreamShape {
  readonly contentType: string;
  /** Everything before the first token (may be empty). */
  readonly open: string;
  /** The frame that carries token `index`. */
  token(index: number): string;
  /** Everything after the last token, except the end marker. */
  readonly close: string;
  /** The provider's end marker (`data: [DONE]`, `message_stop`, `]`…); empty when it has none. */
  readonly done: string;
  /** A frame that is not valid JSON, in this stream's framing. */
  readonly malformed: string;
}

/** Writes one provider's answers. */
export interface Renderer {
  /** The non-streaming body. */
  json(g: Generation): string;
  /** The streaming body as frames. */
  stream(g: Generation): StreamShape;
}

/** One SSE frame with a `data:` line only. */
export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

/** One SSE frame with an `event:` line and a `data:` line. */
export function sseEvent(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}

/** OpenAI usage: completion tokens include reasoning tokens. */
export function openAiUsage(g: Generation): Record<string, unknown> {
  const completion = g.completionTokens + g.reasoningTokens;
  return {
    prompt_tokens: g.promptTokens,
    completion_tokens: completion,
    total_tokens: g.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: g.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: g.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Azure OpenAI content filter verdicts: nothing filtered. */
export const AZURE_FILTER_RESULTS = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
} as const;

/** Azure OpenAI prompt filter results, as on a non-streaming body or the first chunk. */
export const AZURE_PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: AZURE_FILTER_RESULTS }] as const;

/** Frames of an OpenAI-style `data:` stream. */
export const OPENAI_DONE = 'data: [DONE]\n\n';
/** A frame that is not JSON. */
export const MALFORMED_SSE = 'data: {not json\n\n';
