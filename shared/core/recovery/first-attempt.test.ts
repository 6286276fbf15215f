import { describe, expect, it } from 'vitest';
import { FirstAttemptState, MAX_PENDING_CHARS } from './first-attempt.js';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 7,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });

describe('FirstAttemptState', () => {
  it('keeps a healthy stream unparsed and reads it when a cut asks', () => {
    const state = new FirstAttemptState();
    expect(state.take(chunk({ role: 'assistant', content: 'Hel' }))).toBe('forward');
    expect(state.take(chunk({ content: 'lo' }))).toBe('forward');
    expect(state.take(undefined)).toBe('forward');
    expect(state.held.parsed).toBe(0);
    expect(state.held.chars).toBeGreaterThan(0);

    expect(state.recoverable).toBe(true);
    expect(state.held).toEqual({ chars: 0, parsed: 2 });
    expect(state.delivered.content).toBe('Hello');
    expect(state.identity).toEqual({ id: 'c1', model: 'gpt-4o', created: 7, systemFingerprint: undefined });
    expect(state.roleDelivered).toBe(true);
    expect(state.contentChunks).toBe(2);
  });

  it('parses an error event on arrival: withheld while recoverable, forwarded once not', () => {
    const state = new FirstAttemptState();
    state.take(chunk({ role: 'assistant', content: 'Hi' }));
    expect(state.take('{"error":{"message":"overloaded"}}')).toBe('error');
    const escaped = new FirstAttemptState();
    escaped.take(chunk({ content: 'Hi' }));
    expect(escaped.take('{"\\u0065rror":{"message":"overloaded"}}')).toBe('error');
    const before = new FirstAttemptState();
    expect(before.take('{"error":{"message":"overloaded"}}')).toBe('forward');
  });

  it('parses text that only looks like an error without withholding it', () => {
    const state = new FirstAttemptState();
    state.take(chunk({ role: 'assistant', content: 'the word ' }));
    expect(state.take(chunk({ content: 'error' }))).toBe('forward');
    expect(state.held.parsed).toBe(2);
    expect(state.delivered.content).toBe('the word error');
  });

  it('stops keeping events once the stream cannot be recovered', () => {
    const finished = new FirstAttemptState();
    finished.take(chunk({ content: 'Hi' }));
    finished.take(
      JSON.stringify({ id: 'c1', created: 7, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    );
    expect(finished.recoverable).toBe(false);
    finished.take(chunk({ content: 'more' }));
    expect(finished.held).toEqual({ chars: 0, parsed: 2 });

    const audio = new FirstAttemptState();
    audio.take(chunk({ audio: { data: 'AAAA' } }));
    audio.take(chunk({ content: 'x' }));
    expect(audio.recoverable).toBe(false);
    expect(audio.held.parsed).toBe(1);
  });

  it('parses the held events once they pass the bound', () => {
    const state = new FirstAttemptState();
    const one = chunk({ content: 'token ' });
    const fit = Math.floor(MAX_PENDING_CHARS / one.length);
    for (let i = 0; i < fit; i++) state.take(one);
    expect(state.held).toEqual({ chars: fit * one.length, parsed: 0 });
    state.take(one);
    expect(state.held).toEqual({ chars: 0, parsed: fit + 1 });
    expect(state.delivered.length).toBe((fit + 1) * 'token '.length);
  });
});
