/**
 * Time source for everything in `shared/core`. The engine never reads the global clock: hosts inject
 * {@link systemClock}, tests inject a fake one (`test-support/fake-clock.ts`) so that time logic is
 * deterministic.
 *
 * @example
 * const clock: Clock = systemClock;
 * const started = clock.now();
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  now(): number;
  /** A monotonic high-resolution reading in milliseconds, for durations. */
  monotonicMs(): number;
}

/** The real clock: `Date.now()` and `performance.now()`. */
export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-properties -- the one place the real clock is read
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};
