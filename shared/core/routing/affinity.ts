import type { RequestTarget } from './request-target.js';

/**
 * Backend affinity for server-side state. Some OpenAI-style APIs keep state on the backend that created
 * it — a Responses API response (`previous_response_id`, `GET/DELETE /v1/responses/{id}`, background
 * polling), a file, a thread, a batch, a vector store — so a call that refers to it must reach that
 * backend. The gateway learns the mapping from the creating call's response and pins later calls.
 */

const STATEFUL_COLLECTIONS = ['responses', 'files', 'threads', 'batches', 'vector_stores', 'assistants', 'uploads'];
const REFERENCE = new RegExp(`^(?:${STATEFUL_COLLECTIONS.join('|')})/([^/]+)`);

/**
 * The state id a request refers to: the id in the path (`responses/{id}`, `files/{id}/content`,
 * `threads/{id}/runs`, …) or the body's `previous_response_id`.
 *
 * @example
 * referencedStateId(parseRequestTarget('/v1/responses/resp_1', ''), undefined) // 'resp_1'
 */
export function referencedStateId(
  target: RequestTarget,
  json: Record<string, unknown> | undefined,
): string | undefined {
  if (target.shape !== 'openai') return undefined;
  const inPath = REFERENCE.exec(target.operation)?.[1];
  if (inPath !== undefined) return decodeURIComponent(inPath);
  const previous = json?.previous_response_id;
  return typeof previous === 'string' && previous.length > 0 ? previous : undefined;
}

/** True when the call creates state that later calls may refer to (POST to a stateful collection). */
export function createsState(target: RequestTarget, method: string): boolean {
  return method === 'POST' && target.shape === 'openai' && STATEFUL_COLLECTIONS.includes(target.operation);
}

const ID = /"id"\s*:\s*"([^"\\]{1,256})"/;
const HEAD_BYTES = 8 * 1024;

/**
 * Finds the created object's id in the first bytes of a response: the top-level `id` of a JSON answer,
 * or the `response.id` of the first (`response.created`) event of a stream — in both the first `"id"`.
 * Holds at most 8 KiB.
 */
export class StateIdSniffer {
  private head = '';
  private done = false;
  private readonly decoder = new TextDecoder();

  /** Feeds a chunk; returns the id once it is known (then ignores further chunks). */
  push(chunk: Uint8Array): string | undefined {
    if (this.done) return undefined;
    this.head += this.decoder.decode(chunk.subarray(0, HEAD_BYTES - this.head.length), { stream: true });
    const id = ID.exec(this.head)?.[1];
    if (id !== undefined || this.head.length >= HEAD_BYTES) this.done = true;
    return id;
  }
}
