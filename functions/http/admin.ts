import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { callEngine } from '../bridge/engine-call.js';

/**
 * The `admin` HTTP trigger: `/admin/status` (backends, breakers, queues) and `/admin/usage` (chargeback).
 * Two locks: the Functions host's function key (`authLevel: 'function'`; `x-functions-key` or `?code=`)
 * and the engine's admin credential (`x-gateway-admin-key` or an admin Entra role), checked by the engine.
 */
export async function admin(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context)).init;
}

app.http('admin', { route: 'admin/{*rest}', methods: ['GET'], authLevel: 'function', handler: admin });
