import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { joinSignals } from './joined-signal.js';

describe('joinSignals', () => {
  it('aborts with the reason of whichever source aborts first, as AbortSignal.any does', () => {
    for (const first of ['a', 'b'] as const) {
      const a = new AbortController();
      const b = new AbortController();
      const joined = joinSignals(a.signal, b.signal);
      const any = AbortSignal.any([a.signal, b.signal]);
      expect(joined.signal.aborted).toBe(false);
      (first === 'a' ? a : b).abort(new Error(`${first} went`));
      (first === 'a' ? b : a).abort(new Error('too late'));
      expect(joined.signal.aborted).toBe(true);
      expect((joined.signal.reason as Error).message).toBe(`${first} went`);
      expect(joined.signal.reason).toBe(any.reason);
    }
  });

  it('is aborted at once when a source already is, with the first aborted reason in order', () => {
    const a = new AbortController();
    const b = new AbortController();
    b.abort('b');
    expect(joinSignals(a.signal, b.signal).signal.reason).toBe('b');
    a.abort('a');
    expect(joinSignals(a.signal, b.signal).signal.reason).toBe(AbortSignal.any([a.signal, b.signal]).reason);
  });

  it('lets go of both sources on detach, and after either aborts', () => {
    const a = new AbortController();
    const b = new AbortController();
    const joined = joinSignals(a.signal, b.signal);
    expect([getEventListeners(a.signal, 'abort').length, getEventListeners(b.signal, 'abort').length]).toEqual([1, 1]);
    joined.detach();
    expect([getEventListeners(a.signal, 'abort').length, getEventListeners(b.signal, 'abort').length]).toEqual([0, 0]);
    a.abort();
    expect(joined.signal.aborted).toBe(false);
    const c = new AbortController();
    const d = new AbortController();
    joinSignals(c.signal, d.signal);
    d.abort();
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });
});
