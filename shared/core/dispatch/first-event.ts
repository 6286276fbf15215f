/**
 * True for an SSE answer (`text/event-stream`), whose first byte is its first event, not its headers.
 *
 * @example
 * isEventStream(response.headers['content-type']) // true for 'text/event-stream; charset=utf-8'
 */
export function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && value.startsWith('text/event-stream');
}

/**
 * Waits for a stream's first chunk — the stream hand-off: until it comes nothing has gone to the caller and
 * the call may still fail over. Resolves to a body that yields that chunk and then the rest (and closes the
 * source when its reader stops early), or to undefined when the stream ended before its first byte. Rejects
 * with what reading threw (the attempt's first-byte deadline, a reset).
 *
 * @example
 * const body = await firstEvent(response.body);
 * if (body === undefined) // ended empty: fail over
 */
export async function firstEvent(body: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array> | undefined> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  return first.done === true ? undefined : prepend(first.value, iterator);
}

/**
 * The first chunk, then the source's own iterator: after the first chunk each `next` is the source's, with no
 * generator or promise of its own per chunk. Stopping the reader closes the source (also right after the first
 * chunk), once.
 */
function prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  let pending: Uint8Array | undefined = first;
  let closed = false;
  const iterator: AsyncIterator<Uint8Array> = {
    next: () => {
      if (pending === undefined) return rest.next();
      const value = pending;
      pending = undefined;
      return Promise.resolve({ value, done: false });
    },
    return: async (value?: unknown) => {
      pending = undefined;
      if (!closed) {
        closed = true;
        await rest.return?.();
      }
      return { value, done: true };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
