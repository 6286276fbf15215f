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

const encoder = new TextEncoder();
/** `"stream_options":{"include_usage":true},` — spliced in right after the body's opening brace. */
const STREAM_OPTIONS_MEMBER = encoder.encode('"stream_options":{"include_usage":true},');
const OPEN_BRACE = 0x7b;

/**
 * The request bytes to send for a plan of {@link injectIncludeUsage}. When the caller's body had no
 * `stream_options` at all, the member is spliced into the received bytes after the opening brace (the
 * object has at least `stream`, so a comma always follows): one copy, no re-serialising of a prompt that
 * may be megabytes. When it had `stream_options` (other options to keep), the plan's object is serialised.
 *
 * @example
 * const bytes = includeUsageBody(received, parsed, plan); // {"stream_options":{"include_usage":true},"model":…
 */
export function includeUsageBody(received: Uint8Array, parsed: Json, plan: IncludeUsagePlan): Uint8Array {
  if (!plan.injected) return received;
  const brace = received.indexOf(OPEN_BRACE);
  if (Object.hasOwn(parsed, 'stream_options') || brace < 0) return encoder.encode(JSON.stringify(plan.body));
  const out = new Uint8Array(received.length + STREAM_OPTIONS_MEMBER.length);
  out.set(received.subarray(0, brace + 1), 0);
  out.set(STREAM_OPTIONS_MEMBER, brace + 1);
  out.set(received.subarray(brace + 1), brace + 1 + STREAM_OPTIONS_MEMBER.length);
  return out;
}
