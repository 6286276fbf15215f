import { errors } from './undici-parts.js';
import { TransportError, type TransportErrorKind } from '../../ports/backend-transport.js';

/**
 * What undici (or the abort signal's reason) threw, in the failure classifier's vocabulary: undici's own error
 * classes first, then the socket's error codes.
 */
export function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  let kind: TransportErrorKind = 'other';
  if (error instanceof errors.HeadersTimeoutError) kind = 'ttfb-timeout';
  else if (error instanceof errors.BodyTimeoutError) kind = 'idle-timeout';
  else if (error instanceof errors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') kind = 'connect-timeout';
  else if (error instanceof errors.RequestAbortedError || err.name === 'AbortError' || code === 'ABORT_ERR')
    kind = 'aborted';
  else if (code === 'ECONNREFUSED') kind = 'connect-refused';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') kind = 'dns';
  else if (
    error instanceof errors.SocketError ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET'
  )
    kind = 'reset';
  return new TransportError(kind, err.message ?? String(error), { cause: error });
}
