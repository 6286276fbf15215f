import {
  choiceText,
  MALFORMED_SSE,
  pieceText,
  sseEvent,
  toolCallId,
  type Generation,
  type Renderer,
  type StreamShape,
} from './generation.js';

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

function functionCallId(g: Generation): string {
  return `fc_${g.id.slice('resp_'.length)}`;
}

/** The answer's output item: a message, or a `function_call` when the answer is a tool call. */
function outputItem(g: Generation, done: boolean): Record<string, unknown> {
  const call = g.answer?.toolCall;
  if (call)
    return {
      id: functionCallId(g),
      type: 'function_call',
      status: done ? 'completed' : 'in_progress',
      arguments: done ? choiceText(g) : '',
      call_id: toolCallId(g, 0),
      name: call.name,
    };
  return {
    id: messageId(g),
    type: 'message',
    status: done ? 'completed' : 'in_progress',
    role: 'assistant',
    content: done ? [{ type: 'output_text', text: choiceText(g), annotations: [], logprobs: [] }] : [],
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
    output: finished ? [outputItem(g, true)] : [],
    parallel_tool_calls: true,
    previous_response_id: meta.previousResponseId,
    reasoning: { effort: null, summary: null },
    store: meta.store,
    temperature: 1,
    text: { format: g.answer?.textFormat ?? { type: 'text' } },
    tool_choice: g.answer?.toolChoice ?? 'auto',
    tools: g.answer?.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: finished ? usage(g) : null,
    metadata: {},
  };
}

/** The events of the output item between the response's `created` / `in_progress` and its final event. */
interface ItemFrames {
  readonly open: string;
  token(index: number): string;
  readonly close: string;
  /** The sequence number of the event after `close`. */
  readonly next: number;
}

function event(type: string, fields: Record<string, unknown>): string {
  return sseEvent(type, JSON.stringify({ type, ...fields }));
}

/**
 * A message: `output_item.added`, `content_part.added`, text deltas, `output_text.done`,
 * `content_part.done`, `output_item.done`.
 */
function messageFrames(g: Generation, first: number): ItemFrames {
  const itemId = messageId(g);
  const text = choiceText(g);
  const part = { type: 'output_text', annotations: [], logprobs: [] };
  const ids = { item_id: itemId, output_index: 0, content_index: 0 };
  const after = first + 2 + g.completionTokens;
  const itemIdJson = JSON.stringify(itemId);
  return {
    open:
      event('response.output_item.added', { sequence_number: first, output_index: 0, item: outputItem(g, false) }) +
      event('response.content_part.added', { sequence_number: first + 1, ...ids, part: { ...part, text: '' } }),
    token: (index) =>
      sseEvent(
        'response.output_text.delta',
        `{"type":"response.output_text.delta","sequence_number":${first + 2 + index},"item_id":${itemIdJson},` +
          `"output_index":0,"content_index":0,"delta":${JSON.stringify(pieceText(g, index))},"logprobs":[]}`,
      ),
    close:
      event('response.output_text.done', { sequence_number: after, ...ids, text, logprobs: [] }) +
      event('response.content_part.done', { sequence_number: after + 1, ...ids, part: { ...part, text } }) +
      event('response.output_item.done', { sequence_number: after + 2, output_index: 0, item: outputItem(g, true) }),
    next: after + 3,
  };
}

/**
 * A function call: `output_item.added`, `function_call_arguments.delta` per token, `…arguments.done`,
 * `output_item.done`.
 */
function functionCallFrames(g: Generation, first: number): ItemFrames {
  const itemId = functionCallId(g);
  const itemIdJson = JSON.stringify(itemId);
  const after = first + 1 + g.completionTokens;
  return {
    open: event('response.output_item.added', { sequence_number: first, output_index: 0, item: outputItem(g, false) }),
    token: (index) =>
      sseEvent(
        'response.function_call_arguments.delta',
        `{"type":"response.function_call_arguments.delta","sequence_number":${first + 1 + index},` +
          `"item_id":${itemIdJson},"output_index":0,"delta":${JSON.stringify(pieceText(g, index))}}`,
      ),
    close:
      event('response.function_call_arguments.done', {
        sequence_number: after,
        item_id: itemId,
        output_index: 0,
        arguments: choiceText(g),
      }) +
      event('response.output_item.done', { sequence_number: after + 1, output_index: 0, item: outputItem(g, true) }),
    next: after + 2,
  };
}

/**
 * OpenAI Responses API (`POST /v1/responses`). Streams `response.created`, `response.in_progress`, the
 * output item's events (a message: `response.output_item.added`, `response.content_part.added`, one
 * `response.output_text.delta` per token, `response.output_text.done`, `response.content_part.done`,
 * `response.output_item.done`; a function call: `response.output_item.added`, one
 * `response.function_call_arguments.delta` per token, `response.function_call_arguments.done`,
 * `response.output_item.done`), and as the end marker `response.completed` (or `response.incomplete`
 * when max tokens cut it short) carrying `response.usage`. Every event has a `sequence_number`.
 */
export function createResponsesRenderer(meta: ResponseMeta): Renderer {
  return {
    json(g: Generation): string {
      return JSON.stringify(responseObject(g, meta, finishedStatus(g)));
    },

    stream(g: Generation): StreamShape {
      const pending = responseObject(g, meta, 'in_progress');
      const item = g.answer?.toolCall ? functionCallFrames(g, 2) : messageFrames(g, 2);
      const open =
        event('response.created', { sequence_number: 0, response: pending }) +
        event('response.in_progress', { sequence_number: 1, response: pending }) +
        item.open;
      const status = finishedStatus(g);
      const finalType = status === 'completed' ? 'response.completed' : 'response.incomplete';
      return {
        contentType: 'text/event-stream; charset=utf-8',
        open,
        token: item.token,
        close: item.close,
        done: event(finalType, { sequence_number: item.next, response: responseObject(g, meta, status) }),
        malformed: MALFORMED_SSE,
      };
    },
  };
}
