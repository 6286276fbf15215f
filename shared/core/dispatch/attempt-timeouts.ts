import type { TimeoutsConfig } from '../../config/schema.js';
import type { ResilienceConfig } from '../../config/resilience-schema.js';

/**
 * One attempt's deadlines: the route's setting, else the backend's, else the default. The total is the
 * caller's own timeout when it gave one, and never more than the TTL left (at least 1 ms); the first-byte
 * deadline never exceeds the total.
 *
 * @example
 * effectiveTimeouts(resilience.deadlines, backend.timeouts, route.timeouts, undefined, deadlineMs - clock.now())
 * // → { connectMs: 5000, firstByteMs: 60000, idleMs: 30000, totalMs: 300000 } with a 300 s TTL left
 */
export function effectiveTimeouts(
  defaults: ResilienceConfig['deadlines'],
  backend: TimeoutsConfig,
  route: TimeoutsConfig,
  callerTimeoutMs: number | undefined,
  ttlRemainingMs: number,
): Required<TimeoutsConfig> {
  const totalMs = Math.max(
    1,
    Math.min(callerTimeoutMs ?? route.totalMs ?? backend.totalMs ?? defaults.totalMs, ttlRemainingMs),
  );
  return {
    // Not clamped by the attempt's budget: the connect timeout is a per-backend pool setting (the attempt's
    // total timer still bounds the whole attempt).
    connectMs: route.connectMs ?? backend.connectMs ?? defaults.connectMs,
    firstByteMs: Math.min(route.firstByteMs ?? backend.firstByteMs ?? defaults.firstByteMs, totalMs),
    idleMs: route.idleMs ?? backend.idleMs ?? defaults.idleMs,
    totalMs,
  };
}
