import type { HeaderReader } from '../http/header-map.js';
/**
 * Request headers by which a caller asks for async mode: ours and the seed's alias. The pipeline
 * removes both before a request goes upstream (and before it is stored for a job).
 */
export const ASYNC_OPT_IN_HEADERS: readonly string[] = Object.freeze(['x-gateway-async', 's7pasyncmode']);

/**
 * Whether the caller opted in to async mode: `x-gateway-async: true` or the seed's
 * `S7PAsyncMode: true` (case-insensitive, like the seed's `bool.TryParse`; anything else is no).
 *
 * @example
 * isAsyncRequested(new Headers({ 'S7PAsyncMode': 'True' })); // true
 */
export function isAsyncRequested(headers: HeaderReader): boolean {
  return ASYNC_OPT_IN_HEADERS.some((name) => headers.get(name)?.trim().toLowerCase() === 'true');
}
