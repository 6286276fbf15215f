import type { Clock } from '../clock.js';

/**
 * A manually advanced {@link Clock} for tests and for tools that drive the engine on synthetic time (the
 * scheduler bench). Test support: production code cannot import it (eslint.config.js, test/lint).
 *
 * @example
 * const clock = new FakeClock();
 * clock.advance(1_000);
 */
export class FakeClock implements Clock {
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  monotonicMs(): number {
    return this.current;
  }
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }
  /** Sets the wall clock to an absolute value. */
  set(ms: number): void {
    this.current = ms;
  }
}
