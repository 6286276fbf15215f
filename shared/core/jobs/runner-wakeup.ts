import type { SetJobTimer } from './job-timer.js';

/**
 * How the job runner's loop sleeps and is woken: {@link pause} sleeps until {@link wake} (or `ms`, when
 * given); a wake-up that arrives while the loop is busy (receiving) is remembered, not lost — the next
 * pause returns at once.
 *
 * @example
 * const wakeup = new RunnerWakeup(setTimer);
 * signals.onSubmitted(() => wakeup.wake());
 * await wakeup.pause(idleMs);
 */
export class RunnerWakeup {
  private readonly setTimer: SetJobTimer;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;

  constructor(setTimer: SetJobTimer) {
    this.setTimer = setTimer;
  }

  /** Ends the current pause, or the next one if none is under way. */
  readonly wake = (): void => {
    const resolve = this.wakeUp;
    this.wakeUp = undefined;
    if (resolve === undefined) this.wakePending = true;
    else resolve();
  };

  /** Resolves on a wake-up, or after `ms` (never, without it). */
  pause(ms: number | undefined): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const disarm = ms === undefined ? () => undefined : this.setTimer(() => finish(), ms);
      const finish = (): void => {
        disarm();
        if (this.wakeUp === finish) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = finish;
    });
  }
}
