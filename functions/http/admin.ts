import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { callEngine } from '../bridge/engine-call.js';

/**
 * The `admin` HTTP trigger: the engine's admin API at `ADMIN_BASE_PATH` (`/gateway/admin/status`, `…/usage`,
 * the status page), the same path the standalone host serves. Not `admin/…`: the Functions host keeps routes
 * starting with `admin` for itself (ADR 0009). Two locks: the Functions host's function key (`authLevel:
 * 'function'`; `x-functions-key` or `?code=`) and the engine's admin credential (`x-gateway-admin-key` or an
 * admin Entra role), checked by the engine.
 */
export async function admin(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context)).init;
}

app.http('admin', { route: 'gateway/admin/{*rest}', methods: ['GET'], authLevel: 'function', handler: admin });
