import { GatewayError } from '../errors/gateway-error.js';
import type { HeaderReader } from '../http/header-map.js';

/** Route-level defaults and limits for {@link createRequestDeadline}. */
export interface RequestDeadlineDefaults {
  /** TTL when the caller sends none (queue wait plus every attempt). */
  readonly defaultTtlMs: number;
  /** Longest TTL a caller may ask for; longer ones are clamped. */
  readonly maxTtlMs: number;
  /** Per-attempt total timeout when the caller sends none. */
  readonly attemptTimeoutMs: number;
  /** Longest per-attempt timeout a caller may ask for; longer ones are clamped. */
  readonly maxAttemptTimeoutMs: number;
}

/**
 * When a request must be done by, and how long one attempt may take.
 *
 * @example
 * const deadline = createRequestDeadline(request.headers, clock.now(), defaults);
 * if (deadline.isExpired(clock.now())) throw new GatewayError('GW_ERR_REQUEST_TTL_EXPIRED');
 * const timeoutMs = deadline.attemptBudgetMs(clock.now()); // min(per-attempt timeout, TTL remaining)
 */
export interface RequestDeadline {
  /** When the request arrived. */
  readonly startedAtMs: number;
  /** Absolute TTL: no attempt starts after this. */
  readonly expiresAtMs: number;
  /** Total timeout of one attempt (headers and body). */
  readonly attemptTimeoutMs: number;
  /** Where the TTL came from. */
  readonly ttlSource: 'header' | 'default';
  /** Milliseconds until the TTL, never negative. */
  remainingMs(nowMs: number): number;
  /** True once the TTL has passed. */
  isExpired(nowMs: number): boolean;
  /** Timeout for an attempt starting now: the per-attempt timeout, cut to the TTL remaining. */
  attemptBudgetMs(nowMs: number): number;
}

const DECIMAL = /^\d+(?:\.\d+)?$/;
const ABSOLUTE_UNIX = /^\+(\d+(?:\.\d+)?)$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses a TTL header value (ours, `x-gateway-ttl`, or the seed's `S7PTTL`) into an absolute deadline:
 * - `+<unix-seconds>`: absolute, e.g. `+1735732800`;
 * - a non-negative decimal: seconds from now, e.g. `2.5`;
 * - an ISO 8601 date(-time), e.g. `2025-01-01T12:00:00Z` (no offset is read as UTC).
 *
 * A deadline in the past is valid (the request expires); a malformed value throws.
 *
 * @throws GatewayError `GW_ERR_REQUEST_INVALID_TTL`
 * @example
 * parseTtlHeader('30', 1_000) // → 31_000
 * parseTtlHeader('+1735732800', now) // → 1_735_732_800_000
 */
export function parseTtlHeader(value: string, nowMs: number, headerName = 'x-gateway-ttl'): number {
  const text = value.trim();
  const invalid = (): GatewayError =>
    new GatewayError('GW_ERR_REQUEST_INVALID_TTL', {
      message: `The ${headerName} header "${truncate(text)}" is not "+<unix-seconds>", seconds, or an ISO 8601 date.`,
      param: headerName,
    });
  const absolute = ABSOLUTE_UNIX.exec(text);
  if (absolute?.[1] !== undefined) return Math.round(Number(absolute[1]) * 1_000);
  if (DECIMAL.test(text)) return nowMs + Math.round(Number(text) * 1_000);
  const iso = ISO_8601.exec(text);
  if (iso === null) throw invalid();
  // Why: Date.parse reads a date-time without an offset as local time; the gateway's hosts may run in
  // any zone, so an offset-less value is pinned to UTC.
  const hasTime = /[T ]\d/i.test(text);
  const normalised = hasTime && iso[1] === undefined ? `${text.replace(' ', 'T')}Z` : text.replace(' ', 'T');
  const atMs = Date.parse(normalised);
  if (Number.isNaN(atMs)) throw invalid();
  return atMs;
}

/**
 * Parses a per-attempt timeout header (ours, `x-gateway-timeout`, or the seed's `S7PTimeout`): a
 * positive integer of milliseconds.
 *
 * @throws GatewayError `GW_ERR_REQUEST_INVALID_HEADER`
 * @example
 * parseTimeoutHeader('45000') // → 45_000
 */
export function parseTimeoutHeader(value: string, headerName = 'x-gateway-timeout'): number {
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
      message: `The ${headerName} header "${truncate(text)}" is not a positive number of milliseconds.`,
      param: headerName,
    });
  }
  return ms;
}

/**
 * Builds a request's deadline from its headers (`x-gateway-ttl` before `S7PTTL`, `x-gateway-timeout`
 * before `S7PTimeout`) and the route's defaults. Caller values are clamped to the route's maxima.
 *
 * @throws GatewayError `GW_ERR_REQUEST_INVALID_TTL` or `GW_ERR_REQUEST_INVALID_HEADER` for malformed headers
 * @example
 * const deadline = createRequestDeadline(new Headers({ 'x-gateway-ttl': '20' }), now, {
 *   defaultTtlMs: 300_000, maxTtlMs: 86_400_000, attemptTimeoutMs: 600_000, maxAttemptTimeoutMs: 3_600_000,
 * });
 * deadline.remainingMs(now) // → 20_000
 */
export function createRequestDeadline(
  headers: HeaderReader,
  nowMs: number,
  defaults: RequestDeadlineDefaults,
): RequestDeadline {
  const ttlHeader = firstHeader(headers, ['x-gateway-ttl', 'S7PTTL']);
  const timeoutHeader = firstHeader(headers, ['x-gateway-timeout', 'S7PTimeout']);
  const expiresAtMs =
    ttlHeader === undefined
      ? nowMs + defaults.defaultTtlMs
      : Math.min(parseTtlHeader(ttlHeader.value, nowMs, ttlHeader.name), nowMs + defaults.maxTtlMs);
  const attemptTimeoutMs =
    timeoutHeader === undefined
      ? defaults.attemptTimeoutMs
      : Math.min(parseTimeoutHeader(timeoutHeader.value, timeoutHeader.name), defaults.maxAttemptTimeoutMs);
  return {
    startedAtMs: nowMs,
    expiresAtMs,
    attemptTimeoutMs,
    ttlSource: ttlHeader === undefined ? 'default' : 'header',
    remainingMs: (now) => Math.max(0, expiresAtMs - now),
    isExpired: (now) => now >= expiresAtMs,
    attemptBudgetMs: (now) => Math.max(0, Math.min(attemptTimeoutMs, expiresAtMs - now)),
  };
}

function firstHeader(headers: HeaderReader, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) return { name, value };
  }
  return undefined;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
