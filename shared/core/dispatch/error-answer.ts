import { AnswerHeaders } from '../http/answer-headers.js';
import type { BackendResponse } from '../../ports/backend-transport.js';
import { concatBytes } from '../concat-bytes.js';
import { parseProviderError, type ProviderError } from '../resilience/provider-error.js';
import { parseRetryAfterMs } from '../resilience/retry-after.js';

/** Error bodies up to this size are read to learn the provider's error code, then passed on verbatim. */
export const ERROR_BODY_PEEK_BYTES = 64 * 1024;

/** What an error answer (status ≥ 400) says, for the classifier; `response` still carries the whole body. */
export interface ErrorAnswer {
  readonly response: BackendResponse;
  /** From the body (`error.code`, `error.type`…), else the `x-ms-error-code` header. */
  readonly providerError: ProviderError | undefined;
  /** The backend's Retry-After (`retry-after-ms`, `x-ms-retry-after-ms`, `retry-after`), capped at `maxMs`. */
  readonly retryAfterMs: number | undefined;
  /** The whole body was read: the answer holds no connection and may be kept to return later. */
  readonly complete: boolean;
}

/**
 * Reads what an error answer says — its Retry-After and the provider's error code — without losing a byte
 * of it: the body is peeked ({@link peekErrorBody}) and replayed.
 *
 * @example
 * const answer = await readErrorAnswer(response, clock.now(), resilience.retryAfter.maxMs);
 * classifyFailure({ phase: 'headers', status: response.status, ...answer, gatewayCredentials });
 */
export async function readErrorAnswer(
  response: BackendResponse,
  nowMs: number,
  maxRetryAfterMs: number,
): Promise<ErrorAnswer> {
  const retryAfterMs = parseRetryAfterMs(retryHeaders(response.headers), nowMs, { maxMs: maxRetryAfterMs });
  const peeked = await peekErrorBody(response);
  const headerCode = headerString(response.headers['x-ms-error-code']);
  return {
    response: peeked.response,
    providerError: peeked.error ?? (headerCode === undefined ? undefined : { code: headerCode }),
    retryAfterMs,
    complete: peeked.complete,
  };
}

function retryHeaders(raw: Record<string, string | string[] | undefined>): AnswerHeaders {
  const headers = new AnswerHeaders();
  for (const name of ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms', 's7prequeue']) {
    const value = headerString(raw[name]);
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const decoder = new TextDecoder();

/**
 * Reads up to {@link ERROR_BODY_PEEK_BYTES} of an error response to learn what the provider says
 * ({@link parseProviderError}), and returns a response whose body replays what was read followed by the
 * rest — so the caller still gets the body verbatim. `complete` is true when the whole body was read.
 *
 * @example
 * const { error, complete } = await peekErrorBody(response); // error.code === 'context_length_exceeded'
 */
export async function peekErrorBody(
  response: BackendResponse,
): Promise<{ response: BackendResponse; error: ProviderError | undefined; complete: boolean }> {
  const iterator = response.body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  let failure: unknown;
  try {
    while (size < ERROR_BODY_PEEK_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } catch (error) {
    failure = error;
  }
  const error = done ? parseProviderError(decoder.decode(concatBytes(chunks, size))) : undefined;
  return { error, complete: done, response: { ...response, body: replay(chunks, failure, done, iterator) } };
}

/** The chunks already read, then what read them failed with, or the rest of the body. */
async function* replay(
  chunks: readonly Uint8Array[],
  failure: unknown,
  done: boolean,
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* chunks;
  if (failure !== undefined) throw failure;
  if (done) return;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
