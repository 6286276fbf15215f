import { completionText, completionTokenText } from './token-count.js';
import {
  AZURE_FILTER_RESULTS,
  AZURE_PROMPT_FILTER_RESULTS,
  MALFORMED_SSE,
  OPENAI_DONE,
  openAiUsage,
  sseData,
  type Generation,
  type Renderer,
  type StreamShape,
} from './generation.js';
import { planChoices, planStreamFrames, usageChunk } from './render-chat-choices.js';

const FINGERPRINT = 'fp_simulator';

/**
 * OpenAI / Azure OpenAI chat completions (`chat.completion`, `chat.completion.chunk`).
 * Streams: role chunk, one chunk per token, a finish chunk, then — only when `include_usage` was asked
 * for — a usage-only chunk (`choices: []`), then `data: [DONE]`. When usage is asked for (and always in
 * the Azure flavour) every other chunk carries `"usage": null`; the Azure flavour opens with a
 * `prompt_filter_results` chunk whose `choices` is empty. Answers with a plan (`n`, tools, JSON) are
 * written by `render-chat-choices.ts`; the one plain choice keeps this precomputed path.
 */
export const chatRenderer: Renderer = {
  json(g: Generation): string {
    const choice: Record<string, unknown> = {
      index: 0,
      message: {
        role: 'assistant',
        content: completionText(g.completionTokens, g.tokenOffset),
        refusal: null,
        annotations: [],
      },
      logprobs: null,
      finish_reason: g.truncated ? 'length' : 'stop',
    };
    const body: Record<string, unknown> = {
      id: g.id,
      object: 'chat.completion',
      created: g.createdS,
      model: g.model,
      system_fingerprint: FINGERPRINT,
      choices: g.answer ? planChoices(g) : [choice],
      usage: openAiUsage(g),
    };
    if (g.azure) {
      if (!g.answer) choice.content_filter_results = AZURE_FILTER_RESULTS;
      body.prompt_filter_results = AZURE_PROMPT_FILTER_RESULTS;
    } else {
      body.service_tier = 'default';
    }
    return JSON.stringify(body);
  },

  stream(g: Generation): StreamShape {
    const usageNull = g.includeUsage || g.azure ? ',"usage":null' : '';
    const chunkHead =
      `{"id":${JSON.stringify(g.id)},"object":"chat.completion.chunk","created":${g.createdS},` +
      `"model":${JSON.stringify(g.model)},"system_fingerprint":"${FINGERPRINT}","choices":[`;
    const head = `${chunkHead}{"index":0,"delta":`;
    const tail = `,"logprobs":null,"finish_reason":null}]${usageNull}}`;
    let open = '';
    if (g.azure) {
      open += sseData(
        JSON.stringify({
          choices: [],
          created: 0,
          id: '',
          model: '',
          object: '',
          prompt_filter_results: AZURE_PROMPT_FILTER_RESULTS,
          usage: null,
        }),
      );
    }
    const usage = g.includeUsage ? usageChunk(g, FINGERPRINT) : '';
    if (g.answer) {
      const frames = planStreamFrames(g, chunkHead, `]${usageNull}}`);
      return {
        contentType: 'text/event-stream; charset=utf-8',
        open: open + frames.open,
        token: frames.token,
        close: frames.close + usage,
        done: OPENAI_DONE,
        malformed: MALFORMED_SSE,
      };
    }
    open += sseData(`${head}{"role":"assistant","content":"","refusal":null}${tail}`);
    const close =
      sseData(`${head}{},"logprobs":null,"finish_reason":"${g.truncated ? 'length' : 'stop'}"}]${usageNull}}`) + usage;
    return {
      contentType: 'text/event-stream; charset=utf-8',
      open,
      token: (index) =>
        sseData(`${head}{"content":${JSON.stringify(completionTokenText(index + (g.tokenOffset ?? 0)))}}${tail}`),
      close,
      done: OPENAI_DONE,
      malformed: MALFORMED_SSE,
    };
  },
};
