import type { FakeClock } from '../../test-support/fake-clock.js';
import type { SetJobTimer } from '../job-timer.js';

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  readonly callback: () => void;
  active: boolean;
}

/**
 * Drains pending promise callbacks. The memory adapters settle through microtasks only (no I/O), so one
 * macrotask turn runs every chain they started to completion; nothing here waits on wall time.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Timers driven by a {@link FakeClock}: `advance` moves the clock and fires what falls due, in order. */
export class ManualTimers {
  private readonly timers: Timer[] = [];
  private seq = 0;

  constructor(readonly clock: FakeClock) {}

  readonly setTimer: SetJobTimer = (callback, delayMs) => {
    const timer: Timer = { atMs: this.clock.now() + Math.max(0, delayMs), seq: this.seq++, callback, active: true };
    this.timers.push(timer);
    return () => {
      timer.active = false;
    };
  };

  /** Moves time forward by `ms`, firing due timers one by one (settling promises after each). */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    await settle();
    for (let fired = 0; fired < 10_000; fired++) {
      const due = this.timers
        .filter((t) => t.active && t.atMs <= target)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.active = false;
      if (due.atMs > this.clock.now()) this.clock.set(due.atMs);
      due.callback();
      await settle();
    }
    this.clock.set(target);
    await settle();
  }

  /** Armed timers. */
  get pending(): number {
    return this.timers.filter((t) => t.active).length;
  }
}
