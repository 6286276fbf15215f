/**
 * Bodies of async jobs (the stored request, the stored response), streamed in and out: a store adapter
 * must not buffer a whole body (the Blob adapter stages blocks and commits them at the end).
 *
 * Keys are `/`-separated paths of `[A-Za-z0-9._~-]` segments, at most 512 characters; the jobs engine
 * uses `{ownerKey}/{jobId}/request` and `{ownerKey}/{jobId}/response` (see docs/jobs.md).
 *
 * Compatibility: keys and {@link PayloadMeta} are a wire format we own (Blob names and metadata in Azure);
 * meta fields may be added, never renamed.
 */

/** What is stored alongside a body. */
export interface PayloadMeta {
  /** `content-type` of the body, when known. */
  readonly contentType?: string;
  /** Small string attributes (Blob metadata: ASCII names, total well under 8 KiB). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A stored body, read lazily. */
export interface StoredPayload {
  readonly meta: PayloadMeta;
  /** Size of the body. */
  readonly bytes: number;
  /** The body, read at the reader's pace. Iterate it once; stopping early (`return`) releases the read. */
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * @example
 * const { bytes } = await payloads.put('u-abc/job1/response', response.body, { contentType: 'application/json' });
 * const stored = await payloads.get('u-abc/job1/response');
 * for await (const chunk of stored!.body) write(chunk);
 */
export interface PayloadStore {
  /**
   * Streams `body` into `key`, replacing what was there. Atomic: when `body` throws, `signal` aborts or
   * the write fails, the call rejects and the key keeps its previous state (no truncated body is ever
   * readable as complete).
   */
  put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    meta: PayloadMeta,
    options?: { readonly signal?: AbortSignal },
  ): Promise<{ readonly bytes: number }>;
  /** The stored body and meta, or `undefined`. */
  get(key: string): Promise<StoredPayload | undefined>;
  /** Removes `key`; `false` when it did not exist. Idempotent. */
  delete(key: string): Promise<boolean>;
}
