import { AnswerHeaders } from './answer-headers.js';
import type { GatewayResponse } from './gateway-request.js';

/**
 * A small JSON response with the gateway's headers (`x-gateway-request-id`, `cache-control: no-store`).
 *
 * @example
 * return jsonResponse(200, { status: 'live' }, requestId);
 */
export function jsonResponse(status: number, value: unknown, requestId: string): GatewayResponse {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const headers = new AnswerHeaders({
    'content-type': 'application/json',
    'content-length': String(bytes.byteLength),
    'x-gateway-request-id': requestId,
    'cache-control': 'no-store',
  });
  return {
    status,
    headers,
    body: (async function* () {
      yield bytes;
    })(),
  };
}
