import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { errorResponse } from '../../shared/core/errors/error-envelope.js';
import { GatewayError } from '../../shared/core/errors/gateway-error.js';
import type { GatewayRequest } from '../../shared/core/http/gateway-request.js';
import { ConfigRefusedError } from './config-refused.js';
import { toGatewayRequest, toHttpResponseInit } from './http-bridge.js';
import { functionsHost } from './host-loader.js';
import type { FunctionsHost } from './runtime.js';

/** What {@link callEngine} answers: the response, its status, and the host (none when it could not be built). */
export interface EngineCall {
  readonly init: HttpResponseInit;
  readonly status: number;
  readonly host: FunctionsHost | undefined;
}

/**
 * The body of every HTTP trigger: remember the durable client (if bound; the capacity ledger and the
 * orchestrations use it), hand the request to the engine, translate the answer back. When the host cannot
 * be built — its configuration is refused, e.g. production mode without caller identity — every call is
 * answered 503 in the error envelope naming the problem, and nothing is served.
 */
export async function callEngine(
  request: HttpRequest,
  context: InvocationContext,
  prepare?: (host: FunctionsHost, request: GatewayRequest) => Promise<GatewayRequest>,
): Promise<EngineCall> {
  let host: FunctionsHost;
  try {
    host = await functionsHost();
  } catch (error) {
    context.error(`gateway: ${(error as Error).message}`);
    const response = errorResponse(hostFailure(error), randomUUID());
    return { init: toHttpResponseInit(response), status: response.status, host: undefined };
  }
  host.durable.remember(context);
  const gatewayRequest = toGatewayRequest(request);
  const response = await host.runtime.gateway.handle(
    prepare === undefined ? gatewayRequest : await prepare(host, gatewayRequest),
  );
  context.trace(`gateway ${request.method} ${new URL(request.url).pathname} -> ${response.status}`);
  return { init: toHttpResponseInit(response), status: response.status, host };
}

/**
 * A refused configuration is named to the caller; any other failure to build the host is not (it may hold internals).
 */
function hostFailure(error: unknown): GatewayError {
  if (error instanceof ConfigRefusedError) {
    const issues = error.issues.join('; ');
    return new GatewayError('GW_ERR_SERVICE_NOT_CONFIGURED', {
      message: `The gateway refuses its configuration (${error.source}) and serves no calls: ${issues}`,
    });
  }
  return new GatewayError('GW_ERR_SERVICE_NOT_READY', {
    message: 'The gateway could not start; the cause is in the Functions log.',
    retryAfterMs: 5_000,
  });
}
