import { describe, expect, it } from 'vitest';
import { concatBytes } from '../core/concat-bytes.js';
import type { PayloadStore } from './payload-store.js';

/**
 * The behaviour every {@link PayloadStore} adapter must have. Run it from the adapter's test file; the
 * factory must return a fresh, empty store each time (e.g. a new Azurite container).
 *
 * @example
 * describePayloadStoreContract('MemoryPayloadStore', () => new MemoryPayloadStore());
 */
export function describePayloadStoreContract(name: string, factory: () => PayloadStore | Promise<PayloadStore>): void {
  const encoder = new TextEncoder();

  async function* chunks(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield part;
  }

  async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const part of body) parts.push(part);
    return concatBytes(parts);
  }

  describe(`PayloadStore contract: ${name}`, () => {
    it('stores a body with its meta and reads it back', async () => {
      const store = await factory();
      const written = await store.put(
        'u-1/job-1/request',
        chunks([encoder.encode('{"model":'), encoder.encode('"gpt-4o"}')]),
        { contentType: 'application/json', attributes: { method: 'POST' } },
      );
      expect(written.bytes).toBe(18);
      const stored = await store.get('u-1/job-1/request');
      expect(stored?.bytes).toBe(18);
      expect(stored?.meta).toEqual({ contentType: 'application/json', attributes: { method: 'POST' } });
      expect(new TextDecoder().decode(await collect(stored!.body))).toBe('{"model":"gpt-4o"}');
    });

    it('reads nothing for an unknown key', async () => {
      const store = await factory();
      expect(await store.get('u-1/none/request')).toBeUndefined();
    });

    it('stores an empty body', async () => {
      const store = await factory();
      expect(await store.put('u-1/job-2/response', chunks([]), {})).toEqual({ bytes: 0 });
      const stored = await store.get('u-1/job-2/response');
      expect(stored?.bytes).toBe(0);
      expect((await collect(stored!.body)).byteLength).toBe(0);
    });

    it('streams a multi-megabyte body in chunks and returns it byte for byte', async () => {
      const store = await factory();
      const chunkBytes = 64 * 1024;
      const chunkCount = 80; // 5 MiB
      let produced = 0;
      async function* big(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < chunkCount; i++) {
          const chunk = new Uint8Array(chunkBytes);
          for (let j = 0; j < chunkBytes; j += 4096) chunk[j] = (i + j) % 251;
          produced++;
          yield chunk;
        }
      }
      const written = await store.put('u-1/job-3/response', big(), { contentType: 'text/event-stream' });
      expect(produced).toBe(chunkCount);
      expect(written.bytes).toBe(chunkBytes * chunkCount);
      const stored = await store.get('u-1/job-3/response');
      let total = 0;
      let reads = 0;
      let mismatches = 0;
      for await (const part of stored!.body) {
        for (let k = 0; k < part.byteLength; k++) {
          const absolute = total + k;
          const i = Math.floor(absolute / chunkBytes);
          const j = absolute % chunkBytes;
          const expected = j % 4096 === 0 ? (i + j) % 251 : 0;
          if (part[k] !== expected) mismatches++;
        }
        total += part.byteLength;
        reads++;
      }
      expect(total).toBe(chunkBytes * chunkCount);
      expect(mismatches).toBe(0);
      expect(reads).toBeGreaterThan(1);
    });

    it('replaces a body written under the same key', async () => {
      const store = await factory();
      await store.put('u-1/job-4/response', chunks([encoder.encode('first, longer')]), { contentType: 'text/plain' });
      await store.put('u-1/job-4/response', chunks([encoder.encode('second')]), {});
      const stored = await store.get('u-1/job-4/response');
      expect(new TextDecoder().decode(await collect(stored!.body))).toBe('second');
      expect(stored?.meta.contentType).toBeUndefined();
    });

    it('leaves nothing readable when the body stream fails half-way', async () => {
      const store = await factory();
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield encoder.encode('partial');
        throw new Error('upstream cut');
      }
      await expect(store.put('u-1/job-5/response', broken(), {})).rejects.toThrow('upstream cut');
      expect(await store.get('u-1/job-5/response')).toBeUndefined();
    });

    it('keeps the previous body when a replacement fails half-way', async () => {
      const store = await factory();
      await store.put('u-1/job-6/response', chunks([encoder.encode('good')]), {});
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield encoder.encode('bad');
        throw new Error('cut');
      }
      await expect(store.put('u-1/job-6/response', broken(), {})).rejects.toThrow('cut');
      const stored = await store.get('u-1/job-6/response');
      expect(new TextDecoder().decode(await collect(stored!.body))).toBe('good');
    });

    it('rejects and stores nothing when the signal aborts', async () => {
      const store = await factory();
      const controller = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield encoder.encode('a');
        controller.abort(new Error('cancelled'));
        yield encoder.encode('b');
      }
      await expect(store.put('u-1/job-7/response', slow(), {}, { signal: controller.signal })).rejects.toThrow();
      expect(await store.get('u-1/job-7/response')).toBeUndefined();
    });

    it('deletes a key idempotently and keeps other keys', async () => {
      const store = await factory();
      await store.put('u-1/job-8/request', chunks([encoder.encode('req')]), {});
      await store.put('u-1/job-8/response', chunks([encoder.encode('res')]), {});
      expect(await store.delete('u-1/job-8/request')).toBe(true);
      expect(await store.delete('u-1/job-8/request')).toBe(false);
      expect(await store.get('u-1/job-8/request')).toBeUndefined();
      expect((await store.get('u-1/job-8/response'))?.bytes).toBe(3);
    });

    it('keeps stored bytes independent of the writer reusing its buffers', async () => {
      const store = await factory();
      const buffer = encoder.encode('abc');
      async function* reuse(): AsyncGenerator<Uint8Array> {
        yield buffer;
        buffer.set(encoder.encode('xyz'));
        yield buffer;
      }
      await store.put('u-1/job-9/request', reuse(), {});
      const stored = await store.get('u-1/job-9/request');
      expect(new TextDecoder().decode(await collect(stored!.body))).toBe('abcxyz');
    });
  });
}
