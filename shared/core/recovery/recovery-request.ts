/**
 * The requests stream recovery sends: the caller's own chat completion request, either continued from an
 * assistant prefill of the text already delivered, or replayed from the start. Both ask for the usage chunk
 * (the gateway sums both attempts' usage) and never change anything else the caller asked for.
 */

/** What the caller's request allows. */
export type RecoveryEligibility =
  | { readonly recoverable: true; readonly prefillAllowed: boolean }
  | { readonly recoverable: false; readonly reason: string };

/**
 * Whether a streamed chat completion request can be recovered at all, and whether a prefill may carry it:
 * one choice only (`n` ≤ 1); a request with tools or functions is never continued by prefill (a tool call
 * cannot be resumed inside an assistant message), only replayed.
 *
 * @example
 * recoveryEligibility({ model: 'gpt-4o', stream: true, messages }) // → { recoverable: true, prefillAllowed: true }
 */
export function recoveryEligibility(json: Record<string, unknown> | undefined): RecoveryEligibility {
  if (json === undefined || json.stream !== true) return { recoverable: false, reason: 'not a streamed request' };
  if (!Array.isArray(json.messages)) return { recoverable: false, reason: 'no messages' };
  if (json.n !== undefined && json.n !== null && json.n !== 1) return { recoverable: false, reason: 'n > 1' };
  const tools = (Array.isArray(json.tools) && json.tools.length > 0) || json.functions !== undefined;
  return { recoverable: true, prefillAllowed: !tools };
}

/**
 * The caller's request with the delivered text appended as the final assistant message — less trailing
 * blanks, which Anthropic refuses in a prefill — and the output limit lowered by the tokens already
 * delivered, so the whole answer stays within what the caller asked for.
 *
 * @example
 * continueRequest(body, 'Hello from the ', 3).messages.at(-1) // → { role: 'assistant', content: 'Hello from the' }
 */
export function continueRequest(
  json: Record<string, unknown>,
  prefill: string,
  deliveredTokens: number,
): Record<string, unknown> {
  const messages = [...(json.messages as unknown[]), { role: 'assistant', content: prefill.trimEnd() }];
  const body: Record<string, unknown> = { ...replayRequest(json), messages };
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const limit = json[key];
    if (typeof limit === 'number') body[key] = Math.max(1, limit - deliveredTokens);
  }
  return body;
}

/** The caller's request as it was, asking for the usage chunk. */
export function replayRequest(json: Record<string, unknown>): Record<string, unknown> {
  const options = typeof json.stream_options === 'object' && json.stream_options !== null ? json.stream_options : {};
  return { ...json, stream_options: { ...options, include_usage: true } };
}
