import { completionText, completionTokenText } from './token-count.js';
import { MALFORMED_SSE, sseEvent, type Generation, type Renderer, type StreamShape } from './generation.js';

/** Lifecycle states of a Responses API object. */
export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'cancelled';

/** Request fields echoed on a Responses API object. */
export interface ResponseMeta {
  readonly background: boolean;
  readonly store: boolean;
  readonly previousResponseId: string | null;
  readonly instructions: string | null;
  readonly maxOutputTokens: number | null;
}

function usage(g: Generation): Record<string, unknown> {
  const output = g.completionTokens + g.reasoningTokens;
  return {
    input_tokens: g.promptTokens,
    input_tokens_details: { cached_tokens: g.cachedTokens },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: g.reasoningTokens },
    total_tokens: g.promptTokens + output,
  };
}

function messageId(g: Generation): string {
  return `msg_${g.id.slice('resp_'.length)}`;
}

function messageItem(g: Generation, done: boolean): Record<string, unknown> {
  return {
    id: messageId(g),
    type: 'message',
    status: done ? 'completed' : 'in_progress',
    role: 'assistant',
    content: done
      ? [{ type: 'output_text', text: completionText(g.completionTokens), annotations: [], logprobs: [] }]
      : [],
  };
}

/** The final status of a finished generation. */
export function finishedStatus(g: Generation): ResponseStatus {
  return g.truncated ? 'incomplete' : 'completed';
}

/**
 * A Responses API object (`object: "response"`) in the given state; output and usage are present only
 * once it has finished (`completed` / `incomplete`).
 */
export function responseObject(g: Generation, meta: ResponseMeta, status: ResponseStatus): Record<string, unknown> {
  const finished = status === 'completed' || status === 'incomplete';
  return {
    id: g.id,
    object: 'response',
    created_at: g.createdS,
    status,
    background: meta.background,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: meta.instructions,
    max_output_tokens: meta.maxOutputTokens,
    model: g.model,
    output: finished ? [messageItem(g, true)] : [],
    parallel_tool_calls: true,
    previous_response_id: meta.previousResponseId,
    reasoning: { effort: null, summary: null },
    store: meta.store,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: finished ? usage(g) : null,
    metadata: {},
  };
}

/**
 * OpenAI Responses API (`POST /v1/responses`). Streams `response.created`, `response.in_progress`,
 * `response.output_item.added`, `response.content_part.added`, one `response.output_text.delta` per
 * token, `response.output_text.done`, `response.content_part.done`, `response.output_item.done`, and
 * as the end marker `response.completed` (or `response.incomplete` when max tokens cut it short)
 * carrying `response.usage`. Every event has a `sequence_number`.
 */
export function createResponsesRenderer(meta: ResponseMeta): Renderer {
  return {
    json(g: Generation): string {
      return JSON.stringify(responseObject(g, meta, finishedStatus(g)));
    },

    stream(g: Generation): StreamShape {
      const itemId = messageId(g);
      const pending = responseObject(g, meta, 'in_progress');
      const open =
        sseEvent(
          'response.created',
          JSON.stringify({ type: 'response.created', sequence_number: 0, response: pending }),
        ) +
        sseEvent(
          'response.in_progress',
          JSON.stringify({ type: 'response.in_progress', sequence_number: 1, response: pending }),
        ) +
        sseEvent(
          'response.output_item.added',
          JSON.stringify({
            type: 'response.output_item.added',
            sequence_number: 2,
            output_index: 0,
            item: messageItem(g, false),
          }),
        ) +
        sseEvent(
          'response.content_part.added',
          JSON.stringify({
            type: 'response.content_part.added',
            sequence_number: 3,
            item_id: itemId,
            output_index: 0,
            content_index: 0,
            part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
          }),
        );
      const text = completionText(g.completionTokens);
      let seq = 4 + g.completionTokens;
      const close =
        sseEvent(
          'response.output_text.done',
          JSON.stringify({
            type: 'response.output_text.done',
            sequence_number: seq++,
            item_id: itemId,
            output_index: 0,
            content_index: 0,
            text,
            logprobs: [],
          }),
        ) +
        sseEvent(
          'response.content_part.done',
          JSON.stringify({
            type: 'response.content_part.done',
            sequence_number: seq++,
            item_id: itemId,
            output_index: 0,
            content_index: 0,
            part: { type: 'output_text', text, annotations: [], logprobs: [] },
          }),
        ) +
        sseEvent(
          'response.output_item.done',
          JSON.stringify({
            type: 'response.output_item.done',
            sequence_number: seq++,
            output_index: 0,
            item: messageItem(g, true),
          }),
        );
      const status = finishedStatus(g);
      const finalType = status === 'completed' ? 'response.completed' : 'response.incomplete';
      const done = sseEvent(
        finalType,
        JSON.stringify({ type: finalType, sequence_number: seq, response: responseObject(g, meta, status) }),
      );
      const itemIdJson = JSON.stringify(itemId);
      return {
        contentType: 'text/event-stream; charset=utf-8',
        open,
        token: (index) =>
          sseEvent(
            'response.output_text.delta',
            `{"type":"response.output_text.delta","sequence_number":${4 + index},"item_id":${itemIdJson},"output_index":0,"content_index":0,"delta":${JSON.stringify(completionTokenText(index))},"logprobs":[]}`,
          ),
        close,
        done,
        malformed: MALFORMED_SSE,
      };
    },
  };
}
