import { GatewayError } from '../errors/gateway-error.js';
import type { Call } from './call-summary.js';

/** Throws the 404 `GW_ERR_REQUEST_ROUTE_NOT_FOUND` for a call no endpoint answers. */
export function noRoute(call: Call): never {
  throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
    message: `No route matches ${call.request.method} ${call.url.pathname}.`,
  });
}
