import { completionText, completionTokenText } from './token-count.js';
import { sseEvent, type Generation, type Renderer, type StreamShape } from './generation.js';

/**
 * Anthropic usage. Anthropic's `input_tokens` excludes cache reads and writes, so
 * `input_tokens = promptTokens − cachedTokens − cacheWriteTokens`; `output_tokens` includes thinking.
 */
function usage(g: Generation, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, g.promptTokens - g.cachedTokens - g.cacheWriteTokens),
    cache_creation_input_tokens: g.cacheWriteTokens,
    cache_read_input_tokens: g.cachedTokens,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/**
 * Anthropic Messages (`POST /v1/messages`). Streams `message_start` (input and cache usage,
 * `output_tokens: 1`), `content_block_start`, `ping`, one `content_block_delta` per token,
 * `content_block_stop`, `message_delta` (final `output_tokens`), and `message_stop` as the end marker.
 */
export const anthropicRenderer: Renderer = {
  json(g: Generation): string {
    return JSON.stringify({
      id: g.id,
      type: 'message',
      role: 'assistant',
      model: g.model,
      content: [{ type: 'text', text: completionText(g.completionTokens) }],
      stop_reason: g.truncated ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: usage(g, g.completionTokens + g.reasoningTokens),
    });
  },

  stream(g: Generation): StreamShape {
    const open =
      sseEvent(
        'message_start',
        JSON.stringify({
          type: 'message_start',
          message: {
            id: g.id,
            type: 'message',
            role: 'assistant',
            model: g.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: usage(g, 1),
          },
        }),
      ) +
      sseEvent(
        'content_block_start',
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      ) +
      sseEvent('ping', '{"type":"ping"}');
    const close =
      sseEvent('content_block_stop', '{"type":"content_block_stop","index":0}') +
      sseEvent(
        'message_delta',
        JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: g.truncated ? 'max_tokens' : 'end_turn', stop_sequence: null },
          usage: { output_tokens: g.completionTokens + g.reasoningTokens },
        }),
      );
    return {
      contentType: 'text/event-stream; charset=utf-8',
      open,
      token: (index) =>
        sseEvent(
          'content_block_delta',
          `{"type":"content_block_delta","index":0,"delta":` +
            `{"type":"text_delta","text":${JSON.stringify(completionTokenText(index))}}}`,
        ),
      close,
      done: sseEvent('message_stop', '{"type":"message_stop"}'),
      malformed: 'event: content_block_delta\ndata: {not json\n\n',
    };
  },
};
