import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import type { GatewayRequest } from '../../shared/core/http/gateway-request.js';
import { callEngine } from '../bridge/engine-call.js';

/** Where the admin trigger listens: the Functions host keeps routes starting with `admin` for itself (ADR 0009). */
export const ADMIN_ROUTE_PREFIX = '/gateway/admin';
/**
 * Where the engine serves its admin API today. Until the engine's own path moves to `/gateway/admin` (the
 * engine-split work owns that constant), the trigger hands it the path it serves.
 */
const ENGINE_ADMIN_PREFIX = '/admin';

/**
 * The `admin` HTTP trigger: `/gateway/admin/status` (backends, breakers, queues) and `/gateway/admin/usage`
 * (chargeback). Two locks: the Functions host's function key (`authLevel: 'function'`; `x-functions-key` or
 * `?code=`) and the engine's admin credential (`x-gateway-admin-key` or an admin Entra role), checked by the engine.
 */
export async function admin(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context, async (_host, gatewayRequest) => toEnginePath(gatewayRequest))).init;
}

function toEnginePath(request: GatewayRequest): GatewayRequest {
  const url = new URL(request.url);
  if (!url.pathname.startsWith(`${ADMIN_ROUTE_PREFIX}/`)) return request;
  url.pathname = ENGINE_ADMIN_PREFIX + url.pathname.slice(ADMIN_ROUTE_PREFIX.length);
  return { ...request, url: url.href };
}

app.http('admin', { route: 'gateway/admin/{*rest}', methods: ['GET'], authLevel: 'function', handler: admin });
