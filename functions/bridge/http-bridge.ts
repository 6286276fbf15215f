import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { GatewayRequest, GatewayResponse } from '../../shared/core/http/gateway-request.js';

/**
 * `HttpRequest` → the engine's request. The Functions host gives no abort signal for the caller; a
 * caller that goes away is seen when the host stops reading the streamed response, which returns the
 * body iterator and aborts the backend call (see `relayBody`).
 */
export function toGatewayRequest(
  request: HttpRequest,
  signal: AbortSignal = new AbortController().signal,
): GatewayRequest {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.body === null ? null : (request.body as unknown as AsyncIterable<Uint8Array>),
    signal,
  };
}

/** The engine's response → `HttpResponseInit`, body streamed as an async iterable. */
export function toHttpResponseInit(response: GatewayResponse): HttpResponseInit {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  });
  return { status: response.status, headers, body: response.body ?? undefined };
}
