import type { HeaderReader } from '../http/header-map.js';
/** Default upper bound on a Retry-After we honour: 60 s. A longer ask is clamped (a breaker handles long outages). */
export const DEFAULT_RETRY_AFTER_MAX_MS = 60_000;

/** Options of {@link parseRetryAfterMs}. */
export interface RetryAfterOptions {
  /** Clamp parsed delays to this; default {@link DEFAULT_RETRY_AFTER_MAX_MS}. */
  readonly maxMs?: number;
}

const DECIMAL = /^\d+(?:\.\d+)?$/;

/**
 * Reads how long a backend asked us to wait, in milliseconds, from (first valid wins)
 * `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds, as Azure OpenAI and the seed's APIM policy
 * send), then `retry-after` (seconds — fractions tolerated — or an HTTP-date). A date in the past is
 * 0. The result is clamped to `[0, maxMs]`; undefined when no header holds a valid value.
 *
 * @example
 * parseRetryAfterMs(new Headers({ 'retry-after': '2.5' }), now) // → 2500
 * parseRetryAfterMs(new Headers({ 'retry-after-ms': '120' }), now) // → 120
 * parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), now) // → 0 (past)
 */
export function parseRetryAfterMs(
  headers: HeaderReader,
  nowMs: number,
  options: RetryAfterOptions = {},
): number | undefined {
  const maxMs = options.maxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;
  const clamp = (ms: number): number => Math.min(Math.max(0, Math.ceil(ms)), maxMs);
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = headers.get(name)?.trim();
    if (value !== undefined && DECIMAL.test(value)) return clamp(Number(value));
  }
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (DECIMAL.test(value)) return clamp(Number(value) * 1_000);
  // HTTP-date only (IMF-fixdate and the obsolete forms all contain a weekday name and "GMT"): avoids
  // Date.parse's leniency turning arbitrary text into a date.
  if (!/GMT$/i.test(value)) return undefined;
  const atMs = Date.parse(value);
  return Number.isNaN(atMs) ? undefined : clamp(atMs - nowMs);
}

/**
 * True when an APIM backend running the seed's policy marked its 429 with `S7PREQUEUE: true`: the
 * call should go back to the scheduler (by priority, within its TTL) for the Retry-After instead of
 * failing, once every other backend is exhausted.
 *
 * @example
 * isRequeueRequested(new Headers({ S7PREQUEUE: 'true' })) // → true
 */
export function isRequeueRequested(headers: HeaderReader): boolean {
  return headers.get('s7prequeue')?.trim().toLowerCase() === 'true';
}

/**
 * Formats the gateway's own `retry-after` header: whole seconds, rounded up, at least 1 (the seed
 * sent milliseconds, which clients read as minutes-long waits).
 *
 * @example
 * formatRetryAfterSeconds(1_200) // → '2'
 * formatRetryAfterSeconds(0) // → '1'
 */
export function formatRetryAfterSeconds(delayMs: number): string {
  const seconds = Number.isFinite(delayMs) ? Math.ceil(delayMs / 1_000) : 1;
  return String(Math.max(1, seconds));
}
