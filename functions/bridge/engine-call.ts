import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { GatewayRequest } from '../../shared/core/http/gateway-request.js';
import { toGatewayRequest, toHttpResponseInit } from './http-bridge.js';
import { functionsHost } from './host-loader.js';
import type { FunctionsHost } from './runtime.js';

/**
 * The body of every HTTP trigger: remember the durable client (if bound; the capacity ledger and the
 * orchestrations use it), hand the request to the engine, translate the answer back.
 */
export async function callEngine(
  request: HttpRequest,
  context: InvocationContext,
  prepare?: (host: FunctionsHost, request: GatewayRequest) => Promise<GatewayRequest>,
): Promise<{ readonly init: HttpResponseInit; readonly status: number; readonly host: FunctionsHost }> {
  const host = await functionsHost();
  host.durable.remember(context);
  const gatewayRequest = toGatewayRequest(request);
  const response = await host.runtime.gateway.handle(
    prepare === undefined ? gatewayRequest : await prepare(host, gatewayRequest),
  );
  context.trace(`gateway ${request.method} ${new URL(request.url).pathname} -> ${response.status}`);
  return { init: toHttpResponseInit(response), status: response.status, host };
}
