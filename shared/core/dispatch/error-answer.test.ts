import { describe, expect, it } from 'vitest';
import type { BackendResponse } from '../../ports/backend-transport.js';
import { ERROR_BODY_PEEK_BYTES, peekErrorBody, readErrorAnswer } from './error-answer.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function answer(
  status: number,
  chunks: readonly Uint8Array[],
  headers: BackendResponse['headers'] = {},
  failAfter?: Error,
): BackendResponse & { pulled: () => number } {
  let pulled = 0;
  return {
    status,
    headers,
    body: (async function* () {
      for (const chunk of chunks) {
        pulled++;
        yield chunk;
      }
      if (failAfter !== undefined) throw failAfter;
    })(),
    errorKind: () => 'reset',
    dump: async () => undefined,
    pulled: () => pulled,
  };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += new TextDecoder().decode(chunk);
  return out;
}

const contextLength = JSON.stringify({ error: { code: 'context_length_exceeded', message: 'too long' } });

describe('peekErrorBody', () => {
  it("reads a small body whole, learns the provider's code, and still hands the body on verbatim", async () => {
    const peeked = await peekErrorBody(
      answer(400, [bytes(contextLength.slice(0, 10)), bytes(contextLength.slice(10))]),
    );
    expect(peeked.complete).toBe(true);
    expect(peeked.error?.code).toBe('context_length_exceeded');
    expect(await readAll(peeked.response.body)).toBe(contextLength);
  });

  it('stops reading at the peek bound, then replays what it read and the rest', async () => {
    const big = new Uint8Array(ERROR_BODY_PEEK_BYTES).fill(0x61);
    const source = answer(500, [big, bytes('tail')]);
    const peeked = await peekErrorBody(source);
    expect(source.pulled()).toBe(1);
    expect(peeked).toMatchObject({ complete: false, error: undefined });
    expect((await readAll(peeked.response.body)).length).toBe(ERROR_BODY_PEEK_BYTES + 4);
  });

  it('replays what it read before the body failed, then the failure', async () => {
    const reset = new Error('reset');
    const peeked = await peekErrorBody(answer(502, [bytes('partial')], {}, reset));
    expect(peeked.complete).toBe(false);
    const iterator = peeked.response.body[Symbol.asyncIterator]();
    expect(new TextDecoder().decode((await iterator.next()).value)).toBe('partial');
    await expect(iterator.next()).rejects.toBe(reset);
  });
});

describe('readErrorAnswer', () => {
  it('reads the Retry-After (capped) and the code from the body', async () => {
    const read = await readErrorAnswer(
      answer(429, [bytes(JSON.stringify({ error: { code: 'insufficient_quota' } }))], { 'retry-after-ms': '90000' }),
      0,
      60_000,
    );
    expect(read).toMatchObject({ retryAfterMs: 60_000, complete: true, providerError: { code: 'insufficient_quota' } });
  });

  it('falls back to the x-ms-error-code header when the body names no code', async () => {
    const read = await readErrorAnswer(
      answer(404, [bytes('not json')], { 'x-ms-error-code': 'DeploymentNotFound' }),
      0,
      1,
    );
    expect(read.providerError).toEqual({ code: 'DeploymentNotFound' });
    expect(read.retryAfterMs).toBeUndefined();
  });
});
