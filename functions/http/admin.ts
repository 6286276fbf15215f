import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ADMIN_BASE_PATH } from '../../shared/core/admin/admin-api.js';
import type { GatewayRequest } from '../../shared/core/http/gateway-request.js';
import { callEngine } from '../bridge/engine-call.js';

/** Where the admin trigger listens: the Functions host keeps routes starting with `admin` for itself (ADR 0009). */
export const ADMIN_ROUTE_PREFIX = '/gateway/admin';

/**
 * The `admin` HTTP trigger: `/gateway/admin/status` (backends, breakers, queues) and `/gateway/admin/usage`
 * (chargeback). Two locks: the Functions host's function key (`authLevel: 'function'`; `x-functions-key` or
 * `?code=`) and the engine's admin credential (`x-gateway-admin-key` or an admin Entra role), checked by the engine.
 */
export async function admin(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context, async (_host, gatewayRequest) => toEnginePath(gatewayRequest))).init;
}

/**
 * The engine serves its admin API at `ADMIN_BASE_PATH`; until that constant is `/gateway/admin` too (the
 * engine's own move, which makes both hosts serve one path), the trigger hands the engine the path it serves.
 * A no-op once they are equal.
 */
function toEnginePath(request: GatewayRequest): GatewayRequest {
  const url = new URL(request.url);
  if (!url.pathname.startsWith(`${ADMIN_ROUTE_PREFIX}/`) || (ADMIN_BASE_PATH as string) === ADMIN_ROUTE_PREFIX)
    return request;
  url.pathname = ADMIN_BASE_PATH + url.pathname.slice(ADMIN_ROUTE_PREFIX.length);
  return { ...request, url: url.href };
}

app.http('admin', { route: 'gateway/admin/{*rest}', methods: ['GET'], authLevel: 'function', handler: admin });
