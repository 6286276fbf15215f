/**
 * The API shape of a response, which decides where usage sits and what its fields mean.
 * Azure OpenAI uses the OpenAI shapes (its `"usage": null` chunks and `prompt_filter_results` chunks are
 * handled by the OpenAI meters).
 */
export type UsageApi =
  | 'openai-chat'
  | 'openai-completions'
  | 'openai-responses'
  | 'openai-embeddings'
  | 'anthropic-messages'
  | 'gemini'
  | 'unknown';

/**
 * How the body is framed: `sse` (`text/event-stream`, parsed line by line) or `json` (one JSON document,
 * or Gemini's streamed JSON array without `alt=sse`; read from a bounded head and tail).
 */
export type UsageFraming = 'sse' | 'json';

/** What a usage tap needs to know about a response. */
export interface UsageFormat {
  readonly api: UsageApi;
  readonly framing: UsageFraming;
}

/**
 * Picks the usage format from the request path (OpenAI `/v1/...`, Azure `/openai/deployments/{d}/...`,
 * Anthropic `/v1/messages`, Gemini `...:generateContent` / `...:streamGenerateContent`) and the response
 * `content-type`. Unknown paths give `api: 'unknown'`, which still meters any standard usage object it sees.
 *
 * @example
 * detectUsageFormat('/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21', 'text/event-stream');
 * // → { api: 'openai-chat', framing: 'sse' }
 */
export function detectUsageFormat(path: string, contentType: string | null | undefined): UsageFormat {
  const framing: UsageFraming = /^\s*text\/event-stream\b/i.test(contentType ?? '') ? 'sse' : 'json';
  return { api: detectUsageApi(path), framing };
}

/** The last path asked about and its answer: a call asks up to three times, and calls mostly repeat paths. */
let lastPath: string | undefined;
let lastApi: UsageApi = 'unknown';

/** The API shape alone, from the request path (query string ignored, trailing slash tolerated). */
export function detectUsageApi(path: string): UsageApi {
  if (path !== lastPath) {
    lastApi = usageApiOf(path);
    lastPath = path;
  }
  return lastApi;
}

function usageApiOf(path: string): UsageApi {
  let p = path;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  p = p.replace(/\/+$/, '').toLowerCase();
  if (/:(stream)?generatecontent$/.test(p)) return 'gemini';
  if (p.endsWith('/chat/completions')) return 'openai-chat';
  if (p.endsWith('/completions')) return 'openai-completions';
  if (p.endsWith('/embeddings')) return 'openai-embeddings';
  if (/\/responses(\/[^/]+)?$/.test(p) && !p.endsWith('/input_items')) return 'openai-responses';
  if (p.endsWith('/messages') && !p.includes('/threads/')) return 'anthropic-messages';
  return 'unknown';
}
