import { describe, expect, it } from 'vitest';
import { emptyUsageReading } from '../usage/usage-reading.js';
import { readChatEvent, type ChatChunk } from './chat-chunk.js';
import { splicedChunk, usageChunk } from './spliced-chunk.js';

const identity = { id: 'first', model: 'gpt-4o', created: 1, systemFingerprint: 'fp_a' };
const parse = (raw: Uint8Array | undefined) =>
  JSON.parse(new TextDecoder().decode(raw).slice(6)) as Record<string, unknown>;
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  readChatEvent(
    JSON.stringify({
      id: 'second',
      model: 'other',
      created: 9,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    }),
  ) as ChatChunk;

describe('splicedChunk', () => {
  it("puts a recovering chunk under the caller's identity", () => {
    const out = parse(
      splicedChunk(chunk({ content: ' world' }), identity, {
        pieces: [{ channel: 'content', text: ' world' }],
        whole: true,
        dropRole: false,
      }),
    );
    expect(out).toMatchObject({ id: 'first', model: 'gpt-4o', created: 1, system_fingerprint: 'fp_a' });
    expect(out.choices).toEqual([{ index: 0, delta: { content: ' world' }, finish_reason: null, logprobs: null }]);
  });

  it('carries only the new part of a trimmed chunk, and drops a second role', () => {
    const out = parse(
      splicedChunk(chunk({ role: 'assistant', content: 'Hello' }), identity, {
        pieces: [{ channel: 'content', text: 'lo' }],
        whole: false,
        dropRole: true,
      }),
    );
    expect(out.choices).toEqual([{ index: 0, delta: { content: 'lo' }, finish_reason: null }]);
  });

  it('keeps the id of a tool call the caller has not seen, and only new arguments of one it has', () => {
    const delta = {
      tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    };
    const fresh = parse(
      splicedChunk(chunk(delta), identity, {
        pieces: [
          { channel: 'tool.0.name', text: 'f' },
          { channel: 'tool.0.arguments', text: '{"a":1}' },
        ],
        whole: false,
        dropRole: true,
      }),
    );
    expect((fresh.choices as { delta: unknown }[])[0]!.delta).toEqual({
      tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    });
    const rest = parse(
      splicedChunk(chunk(delta), identity, {
        pieces: [{ channel: 'tool.0.arguments', text: '1}' }],
        whole: false,
        dropRole: true,
      }),
    );
    expect((rest.choices as { delta: unknown }[])[0]!.delta).toEqual({
      tool_calls: [{ index: 0, function: { arguments: '1}' } }],
    });
  });

  it('sends nothing for a chunk with nothing new, but always the finish', () => {
    expect(
      splicedChunk(chunk({ content: 'x' }), identity, { pieces: [], whole: false, dropRole: true }),
    ).toBeUndefined();
    const finish = parse(splicedChunk(chunk({}, 'stop'), identity, { pieces: [], whole: false, dropRole: true }));
    expect((finish.choices as { finish_reason: string }[])[0]!.finish_reason).toBe('stop');
  });
});

describe('usageChunk', () => {
  it('is the include_usage chunk with the given figures', () => {
    const out = parse(
      usageChunk(identity, { ...emptyUsageReading(), promptTokens: 3, completionTokens: 4, totalTokens: 7 }),
    );
    expect(out).toMatchObject({
      id: 'first',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
  });
});
