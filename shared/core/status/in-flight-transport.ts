import type { BackendRequest, BackendResponse, BackendTransport } from '../../ports/backend-transport.js';

/** A transport that counts the attempts each backend is serving right now. */
export interface InFlightTransport {
  readonly transport: BackendTransport;
  /** Attempts sent to the backend whose response has not ended (headers awaited, or body still flowing). */
  inFlight(backendId: string): number;
}

/**
 * Decorates a {@link BackendTransport} to count in-flight attempts per backend, for the status page's
 * "in flight / maxConcurrency". An attempt counts from `send` until its body is read to the end, fails,
 * is stopped (`return`) or dumped, or `send` rejects. The body's own iterator is kept (no extra stream in
 * the path); only its `next` result is looked at.
 *
 * @example
 * const counted = countInFlight(createUndiciBackendTransport());
 * counted.inFlight('aoai-east'); // 3
 */
export function countInFlight(inner: BackendTransport): InFlightTransport {
  const counts = new Map<string, number>();
  const change = (id: string, delta: number): void => {
    const next = Math.max(0, (counts.get(id) ?? 0) + delta);
    if (next === 0) counts.delete(id);
    else counts.set(id, next);
  };
  const transport: BackendTransport = {
    send(request: BackendRequest): Promise<BackendResponse> {
      change(request.backendId, 1);
      const attempt = new CountedAttempt(request.backendId, change);
      let sent: Promise<BackendResponse>;
      try {
        sent = inner.send(request);
      } catch (error) {
        attempt.end();
        return Promise.reject(error);
      }
      return sent.then(attempt.answered, attempt.failed);
    },
    close: () => inner.close(),
  };
  return { transport, inFlight: (id) => counts.get(id) ?? 0 };
}

/**
 * One counted attempt: ends its count once (body done, failed, stopped or dumped, or no answer). A class with its
 * callbacks bound once per attempt, so that each chunk's `next` adds one `then` and no closures.
 */
class CountedAttempt {
  private ended = false;

  constructor(
    private readonly backendId: string,
    private readonly change: (id: string, delta: number) => void,
  ) {}

  readonly end = (): void => {
    if (!this.ended) this.change(this.backendId, -1);
    this.ended = true;
  };

  readonly answered = (response: BackendResponse): BackendResponse => new CountedResponse(response, this);

  readonly failed = (error: unknown): never => {
    this.end();
    throw error;
  };

  readonly afterNext = (result: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (result.done === true) this.end();
    return result;
  };
}

/**
 * The backend's response with its body's end, failure, stop and dump ending the attempt's count. Its fields are the
 * response's own (a copy with `{ ...response, body }` keeps working); the wrapped response stays private.
 */
class CountedResponse implements BackendResponse, AsyncIterable<Uint8Array> {
  readonly #response: BackendResponse;
  readonly #attempt: CountedAttempt;
  readonly status: number;
  readonly headers: BackendResponse['headers'];
  readonly body: AsyncIterable<Uint8Array> = this;

  constructor(response: BackendResponse, attempt: CountedAttempt) {
    this.#response = response;
    this.#attempt = attempt;
    this.status = response.status;
    this.headers = response.headers;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new CountedBody(this.#response.body[Symbol.asyncIterator](), this.#attempt);
  }

  readonly errorKind = (error: unknown): ReturnType<BackendResponse['errorKind']> => this.#response.errorKind(error);

  readonly dump = (): ReturnType<BackendResponse['dump']> => {
    this.#attempt.end();
    return this.#response.dump();
  };
}

class CountedBody implements AsyncIterator<Uint8Array> {
  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly attempt: CountedAttempt,
  ) {}

  next(): Promise<IteratorResult<Uint8Array>> {
    return this.it.next().then(this.attempt.afterNext, this.attempt.failed);
  }

  return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    this.attempt.end();
    return this.it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined });
  }
}
