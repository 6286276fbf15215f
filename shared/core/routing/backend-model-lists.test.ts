import { describe, expect, it } from 'vitest';
import { backendSchema } from '../../config/schema.js';
import type { BackendRequest, BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { BackendModelLists } from './backend-model-lists.js';

const backend = backendSchema.parse({ id: 'a', url: 'http://a.test/base/', kind: 'openai', headers: { 'x-b': '1' } });

/** A transport answering `GET /v1/models` with `body` (or `status`), counting the requests. */
function transport(body: () => string, status = 200): BackendTransport & { readonly sent: BackendRequest[] } {
  const sent: BackendRequest[] = [];
  return {
    sent,
    async send(request): Promise<BackendResponse> {
      sent.push(request);
      const bytes = new TextEncoder().encode(body());
      return {
        status,
        headers: {},
        body: (async function* () {
          yield bytes;
        })(),
        errorKind: () => 'other',
        dump: async () => undefined,
      };
    },
    close: async () => undefined,
  };
}

const list = (ids: string[]) => JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, owned_by: 'o' })) });
const credentials = { headersFor: () => ({ authorization: 'Bearer t' }) };

describe('BackendModelLists', () => {
  it("asks the backend's /v1/models with its headers and credentials, once per TTL for concurrent askers", async () => {
    const clock = new FakeClock();
    const t = transport(() => list(['x', 'y']));
    const lists = new BackendModelLists({ transport: t, credentials, clock }, { ttlMs: 60_000 });
    const [one, two] = await Promise.all([lists.of(backend), lists.of(backend)]);
    expect(one.map((m) => m.id)).toEqual(['x', 'y']);
    expect(two).toBe(one);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ origin: 'http://a.test', path: '/base/v1/models', method: 'GET' });
    expect(t.sent[0]!.headers).toMatchObject({ 'x-b': '1', authorization: 'Bearer t' });
    clock.advance(59_999);
    await lists.of(backend);
    expect(t.sent).toHaveLength(1);
    clock.advance(1);
    await lists.of(backend);
    expect(t.sent).toHaveLength(2);
  });

  it('remembers a failure as an empty list for the failure TTL, then asks again', async () => {
    const clock = new FakeClock();
    const t = transport(() => 'oops', 503);
    const lists = new BackendModelLists({ transport: t, credentials, clock }, { failureTtlMs: 10_000 });
    expect(await lists.of(backend)).toEqual([]);
    clock.advance(9_999);
    expect(await lists.of(backend)).toEqual([]);
    expect(t.sent).toHaveLength(1);
    clock.advance(1);
    await lists.of(backend);
    expect(t.sent).toHaveLength(2);
  });

  it('bounds models, body bytes and remembered backends, and skips malformed entries', async () => {
    const clock = new FakeClock();
    const t = transport(() =>
      JSON.stringify({ data: [{ id: 'a' }, { id: 7 }, null, { id: '' }, { id: 'b' }, { id: 'c' }] }),
    );
    const lists = new BackendModelLists({ transport: t, credentials, clock }, { maxModels: 2, maxEntries: 1 });
    expect((await lists.of(backend)).map((m) => m.id)).toEqual(['a', 'b']);
    const other = backendSchema.parse({ id: 'b', url: 'http://b.test', kind: 'openai' });
    await lists.of(other);
    await lists.of(backend); // evicted by `other`: fetched again
    expect(t.sent).toHaveLength(3);
    const big = transport(() => list(Array.from({ length: 100 }, (_, i) => `model-${i}`)));
    const small = new BackendModelLists({ transport: big, credentials, clock }, { maxBodyBytes: 100 });
    expect(await small.of(backend)).toEqual([]);
  });
});
