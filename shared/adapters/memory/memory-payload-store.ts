import type { PayloadMeta, PayloadStore, StoredPayload } from '../../ports/payload-store.js';

/** Options of {@link MemoryPayloadStore}. */
export interface MemoryPayloadStoreOptions {
  /** Refuse (reject) a body larger than this; the in-memory store is for one process's jobs. Default 256 MiB. */
  readonly maxBodyBytes?: number;
}

interface Entry {
  readonly meta: PayloadMeta;
  readonly chunks: readonly Uint8Array[];
  readonly bytes: number;
}

/**
 * {@link PayloadStore} in process memory. It holds each body as the chunks it was written in (copied,
 * so a writer may reuse its buffers) and commits them only when the body ends, so a failed write
 * leaves the previous state. Reads stream the stored chunks.
 *
 * @example
 * const payloads = new MemoryPayloadStore({ maxBodyBytes: 64 * 1024 * 1024 });
 */
export class MemoryPayloadStore implements PayloadStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxBodyBytes: number;

  constructor(options: MemoryPayloadStoreOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
  }

  async put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    meta: PayloadMeta,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<{ readonly bytes: number }> {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    options.signal?.throwIfAborted();
    for await (const chunk of body) {
      options.signal?.throwIfAborted();
      bytes += chunk.byteLength;
      if (bytes > this.maxBodyBytes) throw new Error(`Payload ${key} exceeds ${this.maxBodyBytes} bytes.`);
      chunks.push(chunk.slice());
    }
    options.signal?.throwIfAborted();
    this.entries.set(key, { meta: structuredClone(meta), chunks, bytes });
    return { bytes };
  }

  async get(key: string): Promise<StoredPayload | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    return { meta: structuredClone(entry.meta), bytes: entry.bytes, body: replay(entry.chunks) };
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  /** The stored keys (tests, admin view). */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}

async function* replay(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk.slice();
}
