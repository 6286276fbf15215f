import type { UsageReading } from '../usage/usage-reading.js';
import type { AnswerPiece, ChatChunk, ChunkIdentity } from './chat-chunk.js';

const encoder = new TextEncoder();

/**
 * A recovering attempt's chunk as the caller gets it: under the identity of the caller's first chunks
 * (`id`, `model`, `created`, `system_fingerprint`), carrying only `pieces` — the part of the answer the
 * caller does not have — and the chunk's finish reason. Undefined when nothing is left to send.
 *
 * @example
 * splicedChunk(chunk, first, { pieces: [{ channel: 'content', text: ' world' }], whole: false, dropRole: true });
 * // → bytes of `data: {"id":first.id,…,"choices":[{"index":0,"delta":{"content":" world"},…}]}\n\n`
 */
export function splicedChunk(
  chunk: ChatChunk,
  identity: ChunkIdentity,
  part: { readonly pieces: readonly AnswerPiece[]; readonly whole: boolean; readonly dropRole: boolean },
): Uint8Array | undefined {
  const choice = (chunk.json.choices as Record<string, unknown>[] | undefined)?.[0];
  if (choice === undefined) return undefined;
  if (part.pieces.length === 0 && chunk.finishReason === undefined) return undefined;
  let delta: Record<string, unknown>;
  let rest: Record<string, unknown> = choice;
  if (part.whole) {
    delta = { ...(choice.delta as Record<string, unknown>) };
    if (part.dropRole) delete delta.role;
  } else {
    delta = deltaOf(part.pieces, choice.delta as Record<string, unknown>);
    // Log probabilities belong to the tokens as the recovering backend chunked them: not to a trimmed part.
    const { logprobs: _, ...others } = choice;
    rest = others;
  }
  const json: Record<string, unknown> = {
    ...chunk.json,
    id: identity.id,
    model: identity.model,
    created: identity.created,
    choices: [{ ...rest, delta }],
  };
  if (identity.systemFingerprint !== undefined) json.system_fingerprint = identity.systemFingerprint;
  return encoder.encode(`data: ${JSON.stringify(json)}\n\n`);
}

function deltaOf(pieces: readonly AnswerPiece[], original: Record<string, unknown>): Record<string, unknown> {
  const delta: Record<string, unknown> = {};
  const calls = new Map<number, Record<string, unknown>>();
  const originals = Array.isArray(original.tool_calls) ? (original.tool_calls as Record<string, unknown>[]) : [];
  for (const { channel, text } of pieces) {
    if (!channel.startsWith('tool.')) {
      delta[channel] = ((delta[channel] as string | undefined) ?? '') + text;
      continue;
    }
    const [, indexText, field] = channel.split('.');
    const index = Number(indexText);
    let call = calls.get(index);
    if (call === undefined) {
      call = { index, function: {} };
      calls.set(index, call);
    }
    const fn = call.function as Record<string, unknown>;
    fn[field!] = text;
    if (field === 'name') {
      // A tool call the caller has not seen starts here: it carries its own id and type.
      const source = originals.find((c) => (c.index ?? 0) === index);
      if (source?.id !== undefined) call.id = source.id;
      if (source?.type !== undefined) call.type = source.type;
    }
  }
  if (calls.size > 0) delta.tool_calls = [...calls.values()];
  return delta;
}

/**
 * The one usage chunk of a recovered stream: `choices: []` and the sum of both attempts, under the caller's
 * identity — the shape of OpenAI's include_usage chunk.
 */
export function usageChunk(identity: ChunkIdentity, usage: UsageReading): Uint8Array {
  const json: Record<string, unknown> = {
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    choices: [],
    usage: {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.totalTokens,
      prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
      completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    },
  };
  if (identity.systemFingerprint !== undefined) json.system_fingerprint = identity.systemFingerprint;
  return encoder.encode(`data: ${JSON.stringify(json)}\n\n`);
}
