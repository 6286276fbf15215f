import { describe, expect, it } from 'vitest';
import { FirstAttemptState, MAX_PENDING_BYTES, MAX_PENDING_READ_BYTES } from './first-attempt.js';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 7,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });
/** One event as it goes to the caller. */
const event = (payload: string) => new TextEncoder().encode(`data: ${payload}\n\n`);
/** Takes one event: true when it goes to the caller, false when it is withheld (the backend's error event). */
const take = (state: FirstAttemptState, payload: string) => {
  const bytes = event(payload);
  return state.take(bytes) === bytes.length ? 'forward' : 'error';
};

describe('FirstAttemptState', () => {
  it('keeps a healthy stream unparsed and reads it when a cut asks', () => {
    const state = new FirstAttemptState();
    expect(take(state, chunk({ role: 'assistant', content: 'Hel' }))).toBe('forward');
    expect(take(state, chunk({ content: 'lo' }))).toBe('forward');
    expect(state.take(new TextEncoder().encode(': keep-alive\n\n'))).toBe(14);
    expect(state.held.parsed).toBe(0);
    expect(state.held.bytes).toBeGreaterThan(0);

    expect(state.recoverable).toBe(true);
    expect(state.held).toEqual({ bytes: 0, parsed: 2 });
    expect(state.delivered.content).toBe('Hello');
    expect(state.identity).toEqual({ id: 'c1', model: 'gpt-4o', created: 7, systemFingerprint: undefined });
    expect(state.roleDelivered).toBe(true);
    expect(state.contentChunks).toBe(2);
  });

  it('parses an error event on arrival: withheld while recoverable, forwarded once not', () => {
    const state = new FirstAttemptState();
    take(state, chunk({ role: 'assistant', content: 'Hi' }));
    expect(take(state, '{"error":{"message":"overloaded"}}')).toBe('error');
    const escaped = new FirstAttemptState();
    take(escaped, chunk({ content: 'Hi' }));
    expect(take(escaped, '{"\\u0065rror":{"message":"overloaded"}}')).toBe('error');
    const before = new FirstAttemptState();
    expect(take(before, '{"error":{"message":"overloaded"}}')).toBe('forward');
  });

  it('parses text that only looks like an error without withholding it', () => {
    const state = new FirstAttemptState();
    take(state, chunk({ role: 'assistant', content: 'the word ' }));
    expect(take(state, chunk({ content: 'error' }))).toBe('forward');
    expect(state.held.parsed).toBe(2);
    expect(state.delivered.content).toBe('the word error');
  });

  it('stops keeping events once the stream cannot be recovered', () => {
    const finished = new FirstAttemptState();
    take(finished, chunk({ content: 'Hi' }));
    take(
      finished,
      JSON.stringify({ id: 'c1', created: 7, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    );
    expect(finished.recoverable).toBe(false);
    take(finished, chunk({ content: 'more' }));
    expect(finished.held).toEqual({ bytes: 0, parsed: 2 });

    const audio = new FirstAttemptState();
    take(audio, chunk({ audio: { data: 'AAAA' } }));
    take(audio, chunk({ content: 'x' }));
    expect(audio.recoverable).toBe(false);
    expect(audio.held.parsed).toBe(1);
  });

  it('withholds an error event and what follows it within one read, and forwards what preceded it', () => {
    const state = new FirstAttemptState();
    const events = [chunk({ role: 'assistant', content: 'Hi' }), chunk({ content: ' there' })].map(event);
    const error = event('{"error":{"message":"overloaded"}}');
    const read = new Uint8Array([...events[0]!, ...events[1]!, ...error, ...event(chunk({ content: '!' }))]);
    expect(state.take(read)).toBe(events[0]!.length + events[1]!.length);
    expect(state.delivered.content).toBe('Hi there');
  });

  it('parses the held events once they pass the bound', () => {
    const state = new FirstAttemptState();
    let taken = 0;
    let text = '';
    for (; state.held.parsed === 0; taken++) {
      state.take(event(chunk({ content: `token ${taken} ` })));
      text += `token ${taken} `;
      if (state.held.parsed === 0) expect(state.held.bytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    }
    expect(state.held).toEqual({ bytes: 0, parsed: taken });
    // Kept as differences from read to read: thousands of chat chunks before the bound.
    expect(taken).toBeGreaterThan(5_000);
    expect(state.delivered.content).toBe(text);
  });

  it('parses the held events once the reads they stand for pass their own bound, however small they keep', () => {
    // A stream repeating one token: every read the same bytes, kept in a few bytes each.
    const state = new FirstAttemptState();
    const same = event(chunk({ content: 'la ' }));
    let taken = 0;
    for (; state.held.parsed === 0; taken++) state.take(same);
    expect(taken * same.length).toBeGreaterThan(MAX_PENDING_READ_BYTES);
    expect((taken - 1) * same.length).toBeLessThanOrEqual(MAX_PENDING_READ_BYTES);
    expect(state.held).toEqual({ bytes: 0, parsed: taken });
    expect(state.delivered.content).toBe('la '.repeat(taken));
  });

  it('parses at the bound at once when the reads share nothing', () => {
    const state = new FirstAttemptState();
    const big = (i: number) => event(chunk({ content: `${i}`.repeat(5_000) }));
    let taken = 0;
    for (; state.held.parsed === 0; taken++) state.take(big(taken % 10));
    expect(taken).toBeLessThanOrEqual(Math.ceil(MAX_PENDING_BYTES / 5_000) + 1);
    expect(state.delivered.length).toBe(taken * 5_000);
  });
});
