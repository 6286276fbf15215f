import type { Clock } from '../clock.js';
import { errorResponse } from '../errors/error-envelope.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import type { Call } from './call-summary.js';

/**
 * **respond**, for a call that ends in an error before any backend answer reached the caller: the error
 * envelope (status, `x-gateway-error-code`, `retry-after` where retrying helps) with the gateway's overhead
 * and attempt count, and the summary's status and outcome — `caller_aborted` for a caller that left,
 * `rejected` for the caller's own 4xx (a throttled 429 is the backends' `failed`), `failed` otherwise.
 *
 * @example
 * catch (error) { return respondError(clock, error, call); }
 */
export function respondError(clock: Clock, error: unknown, call: Call): GatewayResponse {
  const { summary } = call;
  const response = errorResponse(error, call.requestId);
  const code = error instanceof GatewayError ? error.code : 'GW_ERR_INTERNAL';
  summary.status = response.status;
  summary.errorCode = code;
  summary.outcome =
    code === 'GW_ERR_REQUEST_CLIENT_CLOSED'
      ? 'caller_aborted'
      : response.status < 500 && code !== 'GW_ERR_BACKEND_THROTTLED'
        ? 'rejected'
        : 'failed';
  summary.totalMs = clock.monotonicMs() - call.startMono;
  const backendMs = summary.attempts.reduce((sum, a) => sum + a.durationMs, 0);
  response.headers.set(
    'x-gateway-overhead-ms',
    Math.max(0, summary.totalMs - backendMs - summary.queueWaitMs).toFixed(2),
  );
  if (summary.attempts.length > 0) response.headers.set('x-gateway-attempts', String(summary.attempts.length));
  return response;
}

/**
 * A failure while the caller had already gone (it left while its call waited in the queue or sent its
 * body) is a closed request (499), whatever error the abort surfaced as.
 */
export function callerClosed(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && !(error instanceof GatewayError && error.code !== 'GW_ERR_INTERNAL'))
    return new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', { cause: error });
  return error;
}
