import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { RunnerWakeup } from './runner-wakeup.js';
import { ManualTimers, settle } from './test-support/manual-timers.js';

function setUp() {
  const timers = new ManualTimers(new FakeClock());
  return { timers, wakeup: new RunnerWakeup(timers.setTimer) };
}

describe('RunnerWakeup', () => {
  it('ends a pause on a wake-up, disarming its timer', async () => {
    const { timers, wakeup } = setUp();
    let woke = false;
    void wakeup.pause(1_000).then(() => (woke = true));
    wakeup.wake();
    await settle();
    expect(woke).toBe(true);
    expect(timers.pending).toBe(0);
  });

  it('ends a pause after its time without a wake-up, and never without a time', async () => {
    const { timers, wakeup } = setUp();
    let timed = false;
    let forever = false;
    void wakeup.pause(1_000).then(() => (timed = true));
    await timers.advance(1_000);
    expect(timed).toBe(true);
    void wakeup.pause(undefined).then(() => (forever = true));
    await timers.advance(60_000);
    expect(forever).toBe(false);
    wakeup.wake();
    await settle();
    expect(forever).toBe(true);
  });

  it('remembers a wake-up that came while nobody paused, once', async () => {
    const { timers, wakeup } = setUp();
    wakeup.wake();
    wakeup.wake();
    await wakeup.pause(undefined);
    let second = false;
    void wakeup.pause(1_000).then(() => (second = true));
    await settle();
    expect(second).toBe(false);
    await timers.advance(1_000);
    expect(second).toBe(true);
  });
});
