/**
 * What one `data:` payload of a streamed chat completion (OpenAI and Azure OpenAI shapes) carries, in the
 * terms stream recovery compares and splices: the answer's pieces by channel, its finish, its identity.
 */

/**
 * A stretch of the answer on one channel: `content`, `refusal`, `reasoning_content`, or a tool call's
 * `tool.<index>.name` / `tool.<index>.arguments`. Two attempts agree when they produce the same channels
 * in the same order with the same text.
 */
export interface AnswerPiece {
  readonly channel: string;
  readonly text: string;
}

/** The identity fields the caller saw first; every spliced chunk carries them. */
export interface ChunkIdentity {
  readonly id: string;
  readonly model: string;
  readonly created: number;
  readonly systemFingerprint?: string | undefined;
}

/** A parsed `chat.completion.chunk`. */
export interface ChatChunk {
  readonly kind: 'chunk';
  readonly json: Record<string, unknown>;
  /** Set when the chunk names its completion (Azure's first `prompt_filter_results` chunk does not). */
  readonly identity: ChunkIdentity | undefined;
  /** Answer pieces of choice 0, in the order the chunk lists them. */
  readonly pieces: readonly AnswerPiece[];
  /** `choices[0].finish_reason`, when set. */
  readonly finishReason: string | undefined;
  /** True when `choices[0].delta.role` is set (the opening chunk). */
  readonly opensRole: boolean;
  /** `choices: []` with a `usage` object: the include_usage chunk. */
  readonly usageOnly: boolean;
  /** `choices: []` without usage (Azure's `prompt_filter_results`). */
  readonly noChoices: boolean;
  /** More than one choice, or a choice other than 0: not recoverable. */
  readonly otherChoices: boolean;
  /** Delta content that is not text (audio, images…): not recoverable by prefill or replay. */
  readonly nonText: boolean;
}

/** What a `data:` payload is. */
export type ChatEvent =
  ChatChunk | { readonly kind: 'done' } | { readonly kind: 'error' } | { readonly kind: 'unknown' };

const TEXT_CHANNELS = ['content', 'refusal', 'reasoning_content'] as const;
const KNOWN_DELTA_KEYS: ReadonlySet<string> = new Set([...TEXT_CHANNELS, 'role', 'tool_calls', 'function_call']);

/**
 * Reads one `data:` payload of a chat completion stream. `[DONE]` ends it; an object with an `error` is the
 * backend's error event (a failure, as a cut); anything unparsable is `unknown`.
 *
 * @example
 * readChatEvent('{"id":"c1","model":"gpt-4o","created":1,"choices":[{"index":0,"delta":{"content":"Hi"}}]}')
 * // → { kind: 'chunk', pieces: [{ channel: 'content', text: 'Hi' }], … }
 */
export function readChatEvent(data: string): ChatEvent {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: 'unknown' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'unknown' };
  const chunk = json as Record<string, unknown>;
  if (chunk.error !== undefined && chunk.error !== null) return { kind: 'error' };
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
  const first = choices[0] as Record<string, unknown> | undefined;
  const delta = (typeof first?.delta === 'object' && first.delta !== null ? first.delta : {}) as Record<
    string,
    unknown
  >;
  const hasUsage = typeof chunk.usage === 'object' && chunk.usage !== null;
  return {
    kind: 'chunk',
    json: chunk,
    identity: identityOf(chunk),
    pieces: first === undefined ? [] : piecesOf(delta),
    finishReason: typeof first?.finish_reason === 'string' ? first.finish_reason : undefined,
    opensRole: typeof delta.role === 'string',
    usageOnly: choices.length === 0 && hasUsage,
    noChoices: choices.length === 0 && !hasUsage,
    otherChoices: choices.length > 1 || (first !== undefined && (first.index ?? 0) !== 0),
    nonText: Object.keys(delta).some((k) => !KNOWN_DELTA_KEYS.has(k) && delta[k] !== null) || 'function_call' in delta,
  };
}

function identityOf(chunk: Record<string, unknown>): ChunkIdentity | undefined {
  const { id, model, created } = chunk;
  if (typeof id !== 'string' || id === '' || typeof model !== 'string' || typeof created !== 'number') return undefined;
  const fingerprint = chunk.system_fingerprint;
  return { id, model, created, systemFingerprint: typeof fingerprint === 'string' ? fingerprint : undefined };
}

function piecesOf(delta: Record<string, unknown>): AnswerPiece[] {
  const pieces: AnswerPiece[] = [];
  for (const channel of TEXT_CHANNELS) {
    const text = delta[channel];
    if (typeof text === 'string' && text !== '') pieces.push({ channel, text });
  }
  const calls = Array.isArray(delta.tool_calls) ? (delta.tool_calls as unknown[]) : [];
  for (const call of calls) {
    if (typeof call !== 'object' || call === null) continue;
    const { index, function: fn } = call as { index?: unknown; function?: { name?: unknown; arguments?: unknown } };
    const i = typeof index === 'number' ? index : 0;
    if (typeof fn?.name === 'string' && fn.name !== '') pieces.push({ channel: `tool.${i}.name`, text: fn.name });
    if (typeof fn?.arguments === 'string' && fn.arguments !== '')
      pieces.push({ channel: `tool.${i}.arguments`, text: fn.arguments });
  }
  return pieces;
}

/** True for a tool call's channel (never continued by prefill). */
export function isToolChannel(channel: string): boolean {
  return channel.startsWith('tool.');
}
