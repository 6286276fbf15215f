import { completionText, completionTokenText } from './token-count.js';
import {
  MALFORMED_SSE,
  OPENAI_DONE,
  openAiUsage,
  sseData,
  type Generation,
  type Renderer,
  type StreamShape,
} from './generation.js';

/**
 * OpenAI / Azure OpenAI legacy completions (`text_completion`). Streaming follows the chat rules:
 * one chunk per token, a finish chunk, the usage-only chunk only with `include_usage`, `data: [DONE]`.
 */
export const completionsRenderer: Renderer = {
  json(g: Generation): string {
    return JSON.stringify({
      id: g.id,
      object: 'text_completion',
      created: g.createdS,
      model: g.model,
      choices: [
        {
          text: completionText(g.completionTokens),
          index: 0,
          logprobs: null,
          finish_reason: g.truncated ? 'length' : 'stop',
        },
      ],
      usage: openAiUsage(g),
    });
  },

  stream(g: Generation): StreamShape {
    const usageNull = g.includeUsage || g.azure ? ',"usage":null' : '';
    const head =
      `{"id":${JSON.stringify(g.id)},"object":"text_completion","created":${g.createdS},` +
      `"model":${JSON.stringify(g.model)},"choices":[{"text":`;
    const tokenTail = `,"index":0,"logprobs":null,"finish_reason":null}]${usageNull}}`;
    let close = sseData(
      `${head}"","index":0,"logprobs":null,"finish_reason":"${g.truncated ? 'length' : 'stop'}"}]${usageNull}}`,
    );
    if (g.includeUsage) {
      close += sseData(
        JSON.stringify({
          id: g.id,
          object: 'text_completion',
          created: g.createdS,
          model: g.model,
          choices: [],
          usage: openAiUsage(g),
        }),
      );
    }
    return {
      contentType: 'text/event-stream; charset=utf-8',
      open: '',
      token: (index) => sseData(`${head}${JSON.stringify(completionTokenText(index))}${tokenTail}`),
      close,
      done: OPENAI_DONE,
      malformed: MALFORMED_SSE,
    };
  },
};
