import type { TokenEstimator } from '../../ports/token-estimator.js';

/** Tokens a chat format adds per message (role and separators), OpenAI's published figure. */
export const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant's reply in chat formats. */
export const TOKENS_REPLY_PRIMING = 3;
/** Bound on the prompt text tokenized for an estimate: 4 Mi UTF-16 characters (the rest is scaled). */
export const MAX_PROMPT_ESTIMATE_CHARS = 4 * 1024 * 1024;

type Json = Record<string, unknown>;
function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function collect(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (isObject(value)) {
    if (typeof value.text === 'string') out.push(value.text);
    if (value.content !== undefined) collect(value.content, out);
    if (Array.isArray(value.parts)) collect(value.parts, out);
    if (typeof value.input === 'string') out.push(value.input);
    if (typeof value.arguments === 'string') out.push(value.arguments);
    if (typeof value.output === 'string') out.push(value.output);
    if (Array.isArray(value.tool_calls)) {
      for (const call of value.tool_calls)
        if (isObject(call) && isObject(call.function)) collect(call.function.arguments, out);
    }
  }
}

/**
 * Estimates the prompt tokens of a request body of any supported shape: OpenAI chat `messages`, completions
 * `prompt`, Responses/embeddings `input`, Anthropic `system` + `messages`, Gemini `contents` +
 * `systemInstruction`. Images, audio and tool schemas are not counted (an estimate is a floor). Returns
 * undefined when the body has no recognisable prompt.
 *
 * @example
 * estimatePromptTokens({ messages: [{ role: 'user', content: 'Hi' }] }, estimator, 'gpt-4o'); // → 7
 */
export function estimatePromptTokens(body: unknown, estimator: TokenEstimator, model?: string): number | undefined {
  if (!isObject(body)) return undefined;
  const texts: string[] = [];
  let overhead = 0;
  const messages = Array.isArray(body.messages)
    ? body.messages
    : Array.isArray(body.contents)
      ? body.contents
      : undefined;
  if (messages !== undefined) {
    overhead += TOKENS_REPLY_PRIMING + TOKENS_PER_MESSAGE * messages.length;
    collect(messages, texts);
  }
  if (body.system !== undefined) {
    overhead += TOKENS_PER_MESSAGE;
    collect(body.system, texts);
  }
  if (body.systemInstruction !== undefined) {
    overhead += TOKENS_PER_MESSAGE;
    collect(body.systemInstruction, texts);
  }
  if (typeof body.instructions === 'string') texts.push(body.instructions);
  if (body.prompt !== undefined) collect(body.prompt, texts);
  if (body.input !== undefined) collect(body.input, texts);
  if (texts.length === 0 && messages === undefined) return undefined;
  let text = texts.join('\n');
  let scale = 1;
  if (text.length > MAX_PROMPT_ESTIMATE_CHARS) {
    scale = text.length / MAX_PROMPT_ESTIMATE_CHARS;
    text = text.slice(0, MAX_PROMPT_ESTIMATE_CHARS);
  }
  return Math.ceil(estimator.countText(text, model) * scale) + overhead;
}
