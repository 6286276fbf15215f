import { GatewayError } from '../errors/gateway-error.js';

/**
 * Resolves after `ms`, or rejects with `GW_ERR_REQUEST_CLIENT_CLOSED` as soon as the caller's signal aborts
 * (at once if it already has) — a wait between attempts never outlives the caller.
 *
 * @example
 * await abortableDelay(250, input.signal); // a backoff the caller's disconnect cuts short
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
