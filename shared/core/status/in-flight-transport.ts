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
    async send(request: BackendRequest): Promise<BackendResponse> {
      change(request.backendId, 1);
      let ended = false;
      const end = (): void => {
        if (!ended) change(request.backendId, -1);
        ended = true;
      };
      let response: BackendResponse;
      try {
        response = await inner.send(request);
      } catch (error) {
        end();
        throw error;
      }
      return counted(response, end);
    },
    close: () => inner.close(),
  };
  return { transport, inFlight: (id) => counts.get(id) ?? 0 };
}

function counted(response: BackendResponse, end: () => void): BackendResponse {
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      const it = response.body[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().then(
            (result) => {
              if (result.done === true) end();
              return result;
            },
            (error: unknown) => {
              end();
              throw error;
            },
          ),
        return: (value?: unknown) => {
          end();
          return it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined });
        },
      };
    },
  };
  return {
    status: response.status,
    headers: response.headers,
    body,
    errorKind: (error) => response.errorKind(error),
    dump: () => {
      end();
      return response.dump();
    },
  };
}
