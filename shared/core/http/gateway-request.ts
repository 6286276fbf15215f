import type { HeaderMap, HeaderReader } from './header-map.js';

/**
 * What the engine needs of an incoming request. A web-standard `Request` satisfies it; the Node host
 * passes a lighter object (the socket's body as an async iterable) to avoid building a `Request` and a
 * web stream per call — see docs/adr/0002-engine-request-response-shape.md.
 */
export interface GatewayRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  /** A web `Request`'s `Headers`, or the Node host's view over the socket's raw header array (ADR 0061). */
  readonly headers: HeaderReader;
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
  /** Web `Headers` or the lighter `AnswerHeaders` (ADR 0061); either gives the same header block. */
  readonly headers: HeaderMap;
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
  // Headers takes any iterable of pairs; the DOM typings name only arrays, records and Headers.
  const headers = response.headers instanceof Headers ? response.headers : [...iterate(response.headers)];
  return new Response(body, { status: response.status, headers });
}

function iterate(headers: HeaderMap): Iterable<[string, string]> {
  return { [Symbol.iterator]: () => headers[Symbol.iterator]() };
}
