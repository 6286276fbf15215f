import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../ports/backend-transport.js';
import { armAttempt, attemptErrorKind, FIRST_BYTE_TIMEOUT, TOTAL_TIMEOUT } from './attempt-control.js';

describe('armAttempt', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts at the first-byte deadline unless the first byte came', () => {
    const caller = new AbortController();
    const silent = armAttempt(caller.signal, { totalMs: 1_000, firstByteMs: 300 });
    const answered = armAttempt(caller.signal, { totalMs: 1_000, firstByteMs: 300 });
    answered.firstByteSeen();
    vi.advanceTimersByTime(300);
    expect(silent.signal.reason).toBe(FIRST_BYTE_TIMEOUT);
    expect(attemptErrorKind(undefined, caller.signal, silent.signal)).toBe('ttfb-timeout');
    expect(answered.signal.aborted).toBe(false);
    vi.advanceTimersByTime(700);
    expect(answered.signal.reason).toBe(TOTAL_TIMEOUT);
    expect(attemptErrorKind(undefined, caller.signal, answered.signal)).toBe('total-timeout');
  });

  it("follows the caller's abort until released, and no timer fires after release", () => {
    const caller = new AbortController();
    const followed = armAttempt(caller.signal, { totalMs: 1_000, firstByteMs: 300 });
    const released = armAttempt(caller.signal, { totalMs: 1_000, firstByteMs: 300 });
    expect(vi.getTimerCount()).toBe(4);
    released.release();
    expect(vi.getTimerCount()).toBe(2);
    caller.abort('gone');
    expect(followed.signal.reason).toBe('gone');
    expect(attemptErrorKind(undefined, caller.signal, followed.signal)).toBe('caller-aborted');
    vi.advanceTimersByTime(2_000);
    expect(released.signal.aborted).toBe(false);
  });

  it('aborts with the reason given', () => {
    const control = armAttempt(new AbortController().signal, { totalMs: 1_000, firstByteMs: 300 });
    control.abort('relay done');
    expect(control.signal.reason).toBe('relay done');
    control.release();
  });
});

describe('attemptErrorKind', () => {
  const idle = new AbortController().signal;

  it("names what the transport or the body reported, an unexplained abort as 'other'", () => {
    expect(attemptErrorKind(new TransportError('connect-refused', 'x'), idle, idle)).toBe('connect-refused');
    expect(attemptErrorKind(new TransportError('aborted', 'x'), idle, idle)).toBe('other');
    expect(attemptErrorKind(new Error('x'), idle, idle, 'reset')).toBe('reset');
    expect(attemptErrorKind(new Error('x'), idle, idle, 'aborted')).toBe('other');
    expect(attemptErrorKind(new Error('x'), idle, idle)).toBe('other');
  });

  it("puts the caller's abort before our deadlines, and our deadlines before what the transport says", () => {
    const attempt = new AbortController();
    attempt.abort(TOTAL_TIMEOUT);
    const reset = new TransportError('reset', 'x');
    expect(attemptErrorKind(reset, idle, attempt.signal, 'reset')).toBe('total-timeout');
    expect(attemptErrorKind(reset, AbortSignal.abort(), attempt.signal)).toBe('caller-aborted');
  });
});
