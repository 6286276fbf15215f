import { completionText, completionTokenText } from './token-count.js';
import type { Generation, Renderer, StreamShape } from './generation.js';

/** Gemini separates SSE events with CRLF pairs, as the real API does. */
const SSE_END = '\r\n\r\n';
/** Separator between elements of the streamed JSON array. */
const ARRAY_SEP = ',\r\n';

function usageMetadata(g: Generation, candidates: number, final: boolean): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    promptTokenCount: g.promptTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: g.promptTokens + candidates + (final ? g.reasoningTokens : 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: g.promptTokens }],
  };
  if (g.cachedTokens > 0) usage.cachedContentTokenCount = g.cachedTokens;
  if (final && g.reasoningTokens > 0) usage.thoughtsTokenCount = g.reasoningTokens;
  return usage;
}

function candidate(text: string, finishReason: string | null): Record<string, unknown> {
  const c: Record<string, unknown> = { content: { parts: [{ text }], role: 'model' }, index: 0 };
  if (finishReason) c.finishReason = finishReason;
  return c;
}

/**
 * Gemini `generateContent` / `streamGenerateContent`. `usageMetadata`: `promptTokenCount`,
 * `candidatesTokenCount` (visible tokens), `thoughtsTokenCount` (reasoning, only when > 0),
 * `cachedContentTokenCount` (only when > 0), `totalTokenCount = prompt + candidates + thoughts`.
 * Streams carry running `usageMetadata` on every chunk; the last chunk (with `finishReason`) is final.
 * With `alt=sse` chunks are `data:` events separated by CRLF pairs; otherwise one JSON array.
 */
export const geminiRenderer: Renderer = {
  json(g: Generation): string {
    return JSON.stringify({
      candidates: [candidate(completionText(g.completionTokens), g.truncated ? 'MAX_TOKENS' : 'STOP')],
      usageMetadata: usageMetadata(g, g.completionTokens, true),
      modelVersion: g.model,
      responseId: g.id,
    });
  },

  stream(g: Generation): StreamShape {
    const chunk = (text: string, candidates: number, final: boolean): string =>
      JSON.stringify({
        candidates: [candidate(text, final ? (g.truncated ? 'MAX_TOKENS' : 'STOP') : null)],
        usageMetadata: usageMetadata(g, candidates, final),
        modelVersion: g.model,
        responseId: g.id,
      });
    const last = chunk('', g.completionTokens, true);
    if (g.sse) {
      return {
        contentType: 'text/event-stream; charset=utf-8',
        open: '',
        token: (index) => `data: ${chunk(completionTokenText(index), index + 1, false)}${SSE_END}`,
        close: `data: ${last}${SSE_END}`,
        done: '',
        malformed: `data: {not json${SSE_END}`,
      };
    }
    return {
      contentType: 'application/json; charset=utf-8',
      open: '[',
      token: (index) => (index === 0 ? '' : ARRAY_SEP) + chunk(completionTokenText(index), index + 1, false),
      close: (g.completionTokens > 0 ? ARRAY_SEP : '') + last,
      done: ']',
      malformed: `${ARRAY_SEP}{not json`,
    };
  },
};
