import { concatBytes } from '../concat-bytes.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Reads a request body into one buffer, refusing it as soon as it passes `limitBytes` (413) — a
 * declared `content-length` over the limit is refused before reading. Request bodies are buffered
 * (bounded) because a failover resends them; responses are never buffered.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array> | null,
  declaredLength: string | null,
  limitBytes: number,
): Promise<Uint8Array | null> {
  if (body === null) return null;
  if (declaredLength !== null) {
    const declared = Number(declaredLength);
    if (!Number.isInteger(declared) || declared < 0)
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: 'content-length is not a non-negative integer.',
        param: 'content-length',
      });
    if (declared > limitBytes) throw tooLarge(limitBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk);
  }
  return total === 0 ? null : concatBytes(chunks, total);
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_BODY_TOO_LARGE', {
    message: `The request body exceeds the limit of ${limitBytes} bytes.`,
  });
}
