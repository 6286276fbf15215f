import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONFIRM_TURNS, IdleWatchdog } from './idle-watchdog.js';

/** Runs the confirmation's turns of I/O (each a `setImmediate`). */
function confirmTurns(): void {
  for (let turn = 0; turn < CONFIRM_TURNS; turn++) vi.runOnlyPendingTimers();
}

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
    confirmTurns(); // the confirmation, after the I/O of the next turns
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
    confirmTurns();
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
    confirmTurns();
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

  it('confirms after a second turn: a chunk a backend starved with the gateway sends a turn later is no stall', () => {
    watchdog.waiting();
    vi.advanceTimersToNextTimer(); // the deadline's timer
    vi.advanceTimersToNextTimer(); // the first turn of I/O: the backend's queued bytes leave its socket
    expect(fired).toBe(0);
    watchdog.received(); // … and reach ours in the next turn
    vi.runAllTimers();
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
