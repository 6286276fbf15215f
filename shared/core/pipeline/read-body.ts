import { concatBytes } from '../concat-bytes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { BodyLease } from './body-budget.js';

/**
 * Reads a request body into one buffer, refusing it as soon as it passes `limitBytes` (413) — a
 * declared `content-length` over the limit is refused before reading. Request bodies are buffered
 * (bounded) because a failover resends them; responses are never buffered. Every byte read is first
 * taken from `lease` (the total buffered across calls in flight), which throws a 503 when it is full:
 * a declared length is taken at once, so a call that cannot fit is refused before its body is read.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array> | null,
  declaredLength: string | null,
  limitBytes: number,
  lease?: BodyLease,
): Promise<Uint8Array | null> {
  if (body === null) return null;
  let declared: number | undefined;
  if (declaredLength !== null) {
    declared = Number(declaredLength);
    if (!Number.isInteger(declared) || declared < 0)
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: 'content-length is not a non-negative integer.',
        param: 'content-length',
      });
    if (declared > limitBytes) throw tooLarge(limitBytes);
    lease?.grow(declared);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limitBytes) throw tooLarge(limitBytes);
    // Bytes beyond the declared length (or all of them, when none was declared) are taken as they come.
    if (declared === undefined || total > declared)
      lease?.grow(declared === undefined ? chunk.byteLength : Math.min(chunk.byteLength, total - declared));
    chunks.push(chunk);
  }
  return total === 0 ? null : concatBytes(chunks, total);
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_BODY_TOO_LARGE', {
    message:
      `The request body exceeds the limit of ${limitBytes} bytes ` +
      '(raise it with limits.maxBodyBytes, GATEWAY_LIMITS__MAX_BODY_BYTES).',
  });
}
