import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { toGatewayRequest, toHttpResponseInit } from '../bridge/http-bridge.js';
import { functionsRuntime } from '../bridge/runtime.js';

/**
 * The `proxy` HTTP trigger: every path not taken by another function goes to the engine. A thin
 * bridge — it decides nothing.
 */
export async function proxy(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const response = await functionsRuntime().gateway.handle(toGatewayRequest(request));
  context.trace(`gateway ${request.method} ${request.url} -> ${response.status}`);
  return toHttpResponseInit(response);
}

app.http('proxy', {
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: proxy,
});
