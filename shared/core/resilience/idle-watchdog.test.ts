import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleWatchdog } from './idle-watchdog.js';

describe('IdleWatchdog', () => {
  let fired: number;
  let watchdog: IdleWatchdog;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    fired = 0;
    watchdog = new IdleWatchdog(
      100,
      () => Date.now(),
      () => fired++,
    );
  });
  afterEach(() => {
    watchdog.stop();
    vi.useRealTimers();
  });

  it('fires once when the backend owes a chunk for the whole deadline', () => {
    watchdog.waiting();
    vi.advanceTimersByTime(99);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    vi.runOnlyPendingTimers(); // the confirmation, after the I/O of that turn
    expect([fired, watchdog.idle]).toEqual([1, true]);
    watchdog.waiting();
    vi.advanceTimersByTime(1_000);
    expect(fired).toBe(1);
  });

  it('does not count the time between a chunk and the next read (a slow caller)', () => {
    watchdog.waiting();
    vi.advanceTimersByTime(60);
    watchdog.received();
    vi.advanceTimersByTime(10_000);
    expect([fired, watchdog.owedMs()]).toEqual([0, 0]);
    watchdog.waiting();
    vi.advanceTimersByTime(99);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    vi.runOnlyPendingTimers();
    expect(fired).toBe(1);
  });

  it('measures each wait from its own start, across a timer armed by an earlier wait', () => {
    watchdog.waiting();
    vi.advanceTimersByTime(90);
    watchdog.received();
    watchdog.waiting();
    vi.advanceTimersByTime(90);
    expect([fired, watchdog.owedMs()]).toEqual([0, 90]);
    vi.advanceTimersByTime(10);
    vi.runOnlyPendingTimers();
    expect(fired).toBe(1);
  });

  it('confirms after the I/O already waiting: a chunk read right after the timer is no stall', () => {
    watchdog.waiting();
    vi.advanceTimersToNextTimer(); // the deadline's timer: the decision is deferred past pending I/O
    expect(fired).toBe(0);
    watchdog.received(); // the chunk that was waiting in the socket when the process resumed
    vi.advanceTimersByTime(1);
    expect([fired, watchdog.idle]).toEqual([0, false]);
  });

  it('never fires once stopped, and leaves no timer behind', () => {
    watchdog.waiting();
    watchdog.stop();
    watchdog.waiting();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(fired).toBe(0);
  });
});
