/**
 * Arms a one-shot timer and returns a function that disarms it. Injected so that tests drive time with
 * a fake clock; {@link defaultSetJobTimer} wraps `setTimeout`.
 */
export type SetJobTimer = (callback: () => void, delayMs: number) => () => void;

/** `setTimeout` cannot wait longer than 2^31 − 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The real timer, unref'd so that a pending wake-up never keeps the process alive.
 *
 * @example
 * const disarm = defaultSetJobTimer(() => controller.abort(), 30_000);
 */
export const defaultSetJobTimer: SetJobTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  timer.unref();
  return () => clearTimeout(timer);
};
