import type { DispatchResult } from '../dispatch/dispatcher.js';
import { concatBytes } from '../concat-bytes.js';

/** A refusal larger than this is not kept while fallbacks are tried (provider refusals are a few hundred bytes). */
const MAX_HELD_BYTES = 64 * 1024;

/**
 * Reads a refused answer (a 400 `context_length_exceeded`) whole and frees its connection, so that the call
 * can try a context-window fallback and still hand this answer back verbatim if no fallback serves.
 * `undefined` when the body is larger than {@link MAX_HELD_BYTES} or fails: it is then dropped.
 *
 * @example
 * const held = await holdRefusal(result);
 */
export async function holdRefusal(result: DispatchResult): Promise<DispatchResult | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of result.response.body) {
      size += chunk.byteLength;
      if (size > MAX_HELD_BYTES) {
        await result.response.dump();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch {
    return undefined;
  } finally {
    result.release();
  }
  const bytes = concatBytes(chunks, size);
  return {
    ...result,
    response: {
      ...result.response,
      body: (async function* () {
        yield bytes;
      })(),
      dump: async () => undefined,
    },
    abort: () => undefined,
    release: () => undefined,
  };
}
