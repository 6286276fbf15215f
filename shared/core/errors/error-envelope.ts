import { errorRegistry } from './error-registry.js';
import { GatewayError } from './gateway-error.js';
import { AnswerHeaders } from '../http/answer-headers.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import type { HeaderMap } from '../http/header-map.js';

/**
 * The one error response shape, OpenAI-style so that SDKs surface it as an API error:
 * `{"error":{"message","type","code","param","request_id", ...details}}` with `x-gateway-request-id`,
 * `x-gateway-error-code` and, when retrying can help, `retry-after` (seconds).
 *
 * Compatibility: the envelope is a wire format we own; fields are only ever added.
 */
export function errorResponse(error: unknown, requestId: string, extraHeaders?: HeaderMap): GatewayResponse {
  const gatewayError = error instanceof GatewayError ? error : new GatewayError('GW_ERR_INTERNAL');
  const definition = errorRegistry[gatewayError.code];
  const body = JSON.stringify({
    error: {
      message: gatewayError.message,
      type: definition.type,
      code: gatewayError.code,
      param: gatewayError.param ?? null,
      request_id: requestId,
      ...gatewayError.details,
    },
  });
  const headers = extraHeaders ?? new AnswerHeaders();
  headers.set('content-type', 'application/json');
  headers.set('x-gateway-request-id', requestId);
  headers.set('x-gateway-error-code', gatewayError.code);
  if (gatewayError.retryAfterMs !== undefined) headers.set('retry-after', retryAfterSeconds(gatewayError.retryAfterMs));
  const bytes = new TextEncoder().encode(body);
  headers.set('content-length', String(bytes.byteLength));
  return { status: gatewayError.status, headers, body: single(bytes) };
}

/** `retry-after` in whole seconds, at least 1 (the seed sent milliseconds, which clients misread). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
