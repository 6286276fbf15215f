/**
 * How the engine talks HTTP to a backend. The engine decides everything (which backend, which
 * headers, which deadlines); a transport only moves bytes and reports what went wrong in terms the
 * failure classifier understands. The Node adapter is `UndiciBackendTransport`.
 */

/** One attempt's request. The body is buffered (bounded by `limits.maxBodyBytes`) so it can be resent. */
export interface BackendRequest {
  /** The backend's id: adapters keep one connection pool per backend. */
  readonly backendId: string;
  /** Origin of the backend, e.g. `https://aoai-east.openai.azure.com`. */
  readonly origin: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly method: string;
  /** Header pairs, already filtered (no hop-by-hop, no `S7P*`). */
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | null;
  /** Aborts the attempt: caller disconnect, total deadline, or the engine giving up. */
  readonly signal: AbortSignal;
  /** Response headers must arrive within this time after the request is sent. */
  readonly firstByteTimeoutMs: number;
  /** Longest allowed gap between two response body chunks. */
  readonly idleTimeoutMs: number;
  /** TCP/TLS connect deadline. */
  readonly connectTimeoutMs: number;
  /**
   * Calls the engine may have in flight to this backend at once (its `maxConcurrency`). An adapter that pools
   * connections must not cap them below this: calls the scheduler admitted would wait in a second queue that
   * knows no priority and shows in no metric.
   */
  readonly concurrency?: number;
}

/**
 * A backend's response: status, headers, and the body as a byte stream read at the caller's pace. The engine copies
 * a response with a spread (`{ ...response, body }`), so `errorKind` and `dump` must be own properties, not methods
 * of a prototype (ADR 0069).
 */
export interface BackendResponse {
  readonly status: number;
  /** Lower-cased header names; repeated headers joined as the adapter sees fit (set-cookie kept as an array). */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body. Iterating pulls from the socket; classify what it throws with {@link errorKind}. */
  readonly body: AsyncIterable<Uint8Array>;
  /**
   * Classifies an error thrown while reading {@link body} (the body is the socket's own stream, unwrapped, for speed).
   */
  errorKind(error: unknown): TransportErrorKind;
  /** Stops reading and releases the connection (used when the engine discards a response to fail over). */
  dump(): Promise<void>;
}

/** Why a transport call failed, in the classifier's vocabulary. */
export type TransportErrorKind =
  | 'connect-refused'
  | 'connect-timeout'
  | 'dns'
  | 'reset'
  | 'ttfb-timeout'
  | 'idle-timeout'
  | 'total-timeout'
  | 'caller-aborted'
  | 'aborted'
  | 'other';

/** A transport failure with a classified kind. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** The port. */
export interface BackendTransport {
  /** Sends one attempt. Rejects with {@link TransportError} before headers; body errors surface while iterating. */
  send(request: BackendRequest): Promise<BackendResponse>;
  /** Closes every pool. */
  close(): Promise<void>;
}
