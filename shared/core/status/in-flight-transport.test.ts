import { describe, expect, it } from 'vitest';
import type { BackendRequest, BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import { countInFlight } from './in-flight-transport.js';

const inner: BackendTransport = {
  async send(request) {
    if (request.path === '/refused') throw new Error('connect refused');
    return {
      status: 200,
      headers: {},
      body: (async function* () {
        yield new Uint8Array([1]);
        yield new Uint8Array([2]);
      })(),
      errorKind: () => 'other',
      dump: async () => undefined,
    } satisfies BackendResponse;
  },
  close: async () => undefined,
};
const request = (path: string): BackendRequest =>
  ({ backendId: 'a', origin: 'http://x', path, method: 'POST', headers: {}, body: null }) as unknown as BackendRequest;

describe('countInFlight', () => {
  it('counts an attempt from send until its body ends, is dumped, or send fails', async () => {
    const { transport, inFlight } = countInFlight(inner);
    const first = await transport.send(request('/ok'));
    const second = await transport.send(request('/ok'));
    expect(inFlight('a')).toBe(2);
    const chunks: number[] = [];
    for await (const chunk of first.body) chunks.push(...chunk);
    expect(chunks).toEqual([1, 2]);
    expect(inFlight('a')).toBe(1);
    await second.dump();
    await second.dump();
    expect(inFlight('a')).toBe(0);
    await expect(transport.send(request('/refused'))).rejects.toThrow('connect refused');
    expect(inFlight('a')).toBe(0);
  });

  it('stops counting a body the reader leaves early', async () => {
    const { transport, inFlight } = countInFlight(inner);
    const response = await transport.send(request('/ok'));
    for await (const _ of response.body) break;
    expect(inFlight('a')).toBe(0);
  });
});
