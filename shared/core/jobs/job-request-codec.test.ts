import { describe, expect, it } from 'vitest';
import { decodeJobRequest, encodeJobRequest, type JobRequestHead } from './job-request-codec.js';
import { readText } from './test-support/jobs-harness.js';

const head: JobRequestHead = {
  v: 1,
  method: 'POST',
  path: '/v1/chat/completions?a=1',
  headers: { 'content-type': 'application/json' },
};

async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const all = Buffer.from(await readBytes(source));
  for (let i = 0; i < all.byteLength; i += size) yield all.subarray(i, i + size);
}
async function readBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
async function* of(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

describe('job request codec', () => {
  it.each([1, 3, 7, 1024])('round-trips head and body read back in %i-byte chunks', async (size) => {
    const decoded = await decodeJobRequest(rechunk(encodeJobRequest(head, of('{"model":', '"x"}\nline two')), size));
    expect(decoded.head).toEqual(head);
    expect(await readText(decoded.body)).toBe('{"model":"x"}\nline two');
  });

  it('round-trips a request without a body', async () => {
    const decoded = await decodeJobRequest(encodeJobRequest({ ...head, method: 'GET' }, null));
    expect(decoded.head.method).toBe('GET');
    expect(await readText(decoded.body)).toBe('');
  });

  it('rejects a payload without a head line or with an unknown version', async () => {
    await expect(decodeJobRequest(of('{"v":1'))).rejects.toThrow('no head line');
    await expect(decodeJobRequest(of('{"v":2,"method":"GET","path":"/","headers":{}}\n'))).rejects.toThrow(
      'not a v1 head',
    );
  });
});
