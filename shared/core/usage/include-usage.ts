import type { UsageApi } from './usage-format.js';

/** The outcome of {@link injectIncludeUsage}. */
export interface IncludeUsagePlan {
  /** The body to send to the backend: the original object when nothing changed, else a shallow copy. */
  body: unknown;
  /** True when the gateway added `stream_options.include_usage: true`: strip the usage-only chunk then. */
  injected: boolean;
  /** True when the caller itself asked for usage (`stream_options.include_usage: true`): strip nothing. */
  callerAsked: boolean;
}

type Json = Record<string, unknown>;
function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * For an OpenAI-style streaming chat/completions or completions request (`stream: true`) that did not ask
 * for `stream_options.include_usage: true`, returns the body with it added (other `stream_options` kept)
 * and `injected: true`. Anything else (not streaming, other APIs, caller already asked, not an object)
 * comes back unchanged. Pure: the input is never mutated.
 *
 * @example
 * const plan = injectIncludeUsage('openai-chat', { model: 'gpt-4o', stream: true, messages });
 * // plan.body.stream_options → { include_usage: true }, plan.injected → true
 */
export function injectIncludeUsage(api: UsageApi, body: unknown): IncludeUsagePlan {
  if ((api !== 'openai-chat' && api !== 'openai-completions') || !isObject(body) || body.stream !== true) {
    return { body, injected: false, callerAsked: false };
  }
  const streamOptions = body.stream_options;
  if (isObject(streamOptions) && streamOptions.include_usage === true) {
    return { body, injected: false, callerAsked: true };
  }
  return {
    body: { ...body, stream_options: { ...(isObject(streamOptions) ? streamOptions : {}), include_usage: true } },
    injected: true,
    callerAsked: false,
  };
}
