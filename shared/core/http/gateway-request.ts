/**
 * What the engine needs of an incoming request. A web-standard `Request` satisfies it; the Node host
 * passes a lighter object (the socket's body as an async iterable) to avoid building a `Request` and a
 * web stream per call — see docs/adr/0002-engine-request-response-shape.md.
 */
export interface GatewayRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  readonly headers: Headers;
  readonly body: AsyncIterable<Uint8Array> | null;
  /** Aborts when the caller goes away. */
  readonly signal: AbortSignal;
}

/**
 * What the engine answers: status, headers and a body read at the host's pace. The body iterator
 * throws when a stream fails after the first byte, so that a host ends the connection abnormally rather
 * than as a complete response; returning from it early (caller gone) cancels the backend call.
 */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: AsyncIterable<Uint8Array> | null;
}

/** Turns a {@link GatewayResponse} into a web `Response` (tests, hosts that want one). */
export function toWebResponse(response: GatewayResponse): Response {
  const nullBody = response.body === null || response.status === 204 || response.status === 304;
  let body: ReadableStream<Uint8Array> | null = null;
  if (!nullBody && response.body !== null) {
    const iterator = response.body[Symbol.asyncIterator]();
    body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    });
  }
  return new Response(body, { status: response.status, headers: response.headers });
}
