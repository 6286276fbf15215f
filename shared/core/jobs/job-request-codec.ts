import { concatBytes } from '../concat-bytes.js';

/**
 * The stored form of a job's request: one JSON line (the head) followed by the raw body bytes, so the
 * request is written and read back as a stream and its headers never go into Blob metadata (8 KiB).
 *
 * Compatibility: a wire format we own (the `…/request` payload, content type
 * {@link JOB_REQUEST_CONTENT_TYPE}). `v` is the schema version; fields may be added to the head.
 */

/** Content type of the stored request payload. */
export const JOB_REQUEST_CONTENT_TYPE = 'application/vnd.gateway.job-request+json-head; v=1';

/** Largest head line accepted when reading back (headers are bounded well below this upstream). */
export const MAX_JOB_REQUEST_HEAD_BYTES = 256 * 1024;

/** The head line. */
export interface JobRequestHead {
  readonly v: 1;
  readonly method: string;
  /** Path and query, e.g. `/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`. */
  readonly path: string;
  /** Lower-case names; credentials already removed by the pipeline. */
  readonly headers: Readonly<Record<string, string>>;
}

const NEWLINE = 0x0a;

/**
 * Streams head line + body.
 *
 * @example
 * await payloads.put(key, encodeJobRequest(head, body), { contentType: JOB_REQUEST_CONTENT_TYPE });
 */
export async function* encodeJobRequest(
  head: JobRequestHead,
  body: AsyncIterable<Uint8Array> | null,
): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(`${JSON.stringify(head)}\n`);
  if (body !== null) for await (const chunk of body) yield chunk;
}

/**
 * Reads the head line and returns the rest of the stream as the body (not buffered). Rejects when the
 * head is missing, too long, not JSON or of an unknown version.
 *
 * @example
 * const { head, body } = await decodeJobRequest(stored.body);
 */
export async function decodeJobRequest(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ readonly head: JobRequestHead; readonly body: AsyncIterable<Uint8Array> }> {
  const iterator = stream[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let headBytes = 0;
  let rest: Uint8Array | undefined;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) throw new Error('Stored job request has no head line.');
    const chunk = next.value;
    const newline = chunk.indexOf(NEWLINE);
    if (newline < 0) {
      headBytes += chunk.byteLength;
      if (headBytes > MAX_JOB_REQUEST_HEAD_BYTES) throw new Error('Stored job request head is too long.');
      parts.push(chunk);
      continue;
    }
    parts.push(chunk.subarray(0, newline));
    if (headBytes + newline > MAX_JOB_REQUEST_HEAD_BYTES) throw new Error('Stored job request head is too long.');
    if (newline + 1 < chunk.byteLength) rest = chunk.subarray(newline + 1);
    break;
  }
  const head = JSON.parse(new TextDecoder().decode(concatBytes(parts))) as Partial<JobRequestHead>;
  if (
    head.v !== 1 ||
    typeof head.method !== 'string' ||
    typeof head.path !== 'string' ||
    typeof head.headers !== 'object' ||
    head.headers === null
  ) {
    throw new Error('Stored job request head is not a v1 head.');
  }
  return { head: head as JobRequestHead, body: remainder(rest, iterator) };
}

async function* remainder(
  first: Uint8Array | undefined,
  iterator: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  try {
    if (first !== undefined) yield first;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
