import { describe, expect, it } from 'vitest';
import { readChatEvent } from './chat-chunk.js';

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 7, model: 'gpt-4o', choices, ...extra });

describe('readChatEvent', () => {
  it('reads text pieces, the role and the identity', () => {
    const event = readChatEvent(
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }]),
    );
    expect(event).toMatchObject({
      kind: 'chunk',
      identity: { id: 'c1', model: 'gpt-4o', created: 7 },
      pieces: [{ channel: 'content', text: 'Hi' }],
      opensRole: true,
      finishReason: undefined,
      otherChoices: false,
      nonText: false,
    });
  });

  it('reads tool call names and arguments by index', () => {
    const event = readChatEvent(
      chunk([
        { index: 0, delta: { tool_calls: [{ index: 1, id: 'call_1', function: { name: 'f', arguments: '{' } }] } },
      ]),
    );
    expect(event).toMatchObject({
      pieces: [
        { channel: 'tool.1.name', text: 'f' },
        { channel: 'tool.1.arguments', text: '{' },
      ],
    });
  });

  it("tells the include_usage chunk, Azure's filter chunk, [DONE] and an error event apart", () => {
    expect(readChatEvent(chunk([], { usage: { prompt_tokens: 1 } }))).toMatchObject({ usageOnly: true });
    expect(
      readChatEvent(JSON.stringify({ id: '', model: '', created: 0, choices: [], prompt_filter_results: [] })),
    ).toMatchObject({ noChoices: true, identity: undefined });
    expect(readChatEvent('[DONE]')).toEqual({ kind: 'done' });
    expect(readChatEvent('{"error":{"message":"overloaded"}}')).toEqual({ kind: 'error' });
    expect(readChatEvent('{not json')).toEqual({ kind: 'unknown' });
  });

  it('marks several choices and non-text deltas as not recoverable', () => {
    expect(readChatEvent(chunk([{ index: 1, delta: { content: 'x' } }]))).toMatchObject({ otherChoices: true });
    expect(readChatEvent(chunk([{ index: 0, delta: { audio: { data: 'AAA' } } }]))).toMatchObject({ nonText: true });
  });
});
