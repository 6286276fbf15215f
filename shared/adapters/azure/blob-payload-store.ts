import { Readable } from 'node:stream';
import type { BlobServiceClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import type { PayloadMeta, PayloadStore, StoredPayload } from '../../ports/payload-store.js';
import { absentOn404 } from './azure-errors.js';
import { createOnce } from './create-once.js';
import { StoredRecordError, type CorruptReadSink, type StoredRecordWhere } from '../../ports/stored-record-error.js';
import { readStoredJson } from './stored-record.js';
import { payloadMetaSchema } from './schemas/payload-meta-schema.js';

/** Dependencies of {@link createBlobPayloadStore}. */
export interface BlobPayloadStoreDeps {
  readonly service: BlobServiceClient;
}

/** Options of {@link createBlobPayloadStore}. */
export interface BlobPayloadStoreOptions {
  /** Container (default `gateway-payloads`). */
  readonly container?: string;
  /** Prefix before every key, e.g. `v1/` (default `v1/`). */
  readonly prefix?: string;
  /** Size of each staged block (default 4 MiB). */
  readonly blockBytes?: number;
  /** Blocks uploaded in parallel; memory in use is at most `blockBytes × (maxConcurrency + 1)` (default 4). */
  readonly maxConcurrency?: number;
  /** Create the container on first use when it does not exist (default true). */
  readonly createContainer?: boolean;
  /** Told about every corrupt `gwmeta` metadata read (counted and logged by the composition). */
  readonly onCorrupt?: CorruptReadSink;
}

/** The metadata entry that carries {@link PayloadMeta} (format version 1). */
export const PAYLOAD_META_KEY = 'gwmeta';

const KEY_PATTERN = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;

/**
 * Creates the Azure Blob {@link PayloadStore}. A body is streamed in with `uploadStream` (blocks are
 * staged as they fill and committed once at the end, so a failed or aborted upload leaves the previous
 * blob — or none — readable, never a truncated one) and streamed out from `download()`'s
 * `readableStreamBody`; neither direction holds a whole body.
 *
 * Blob path: `{container}/{prefix}{key}`; the jobs engine's keys start with the caller's owner key,
 * so each caller's payloads share a prefix (lifecycle rules and listing per caller).
 *
 * @example
 * const payloads = createBlobPayloadStore({ service: clients.blobServiceClient() }, { container: 'gateway-payloads' });
 * await payloads.put('u-abc/job1/response', body, { contentType: 'application/json' });
 */
export function createBlobPayloadStore(
  deps: BlobPayloadStoreDeps,
  options: BlobPayloadStoreOptions = {},
): PayloadStore {
  const container: ContainerClient = deps.service.getContainerClient(options.container ?? 'gateway-payloads');
  const store: BlobStoreContext = {
    container,
    prefix: options.prefix ?? 'v1/',
    blockBytes: options.blockBytes ?? 4 * 1024 * 1024,
    maxConcurrency: options.maxConcurrency ?? 4,
    ensureContainer: createOnce(() => container.createIfNotExists(), options.createContainer !== false),
    onCorrupt: options.onCorrupt,
  };
  return {
    put: (key, body, meta, putOptions) => putPayload(store, key, body, meta, putOptions?.signal),
    get: (key) => getPayload(store, key),
    async delete(key) {
      const client = blobOf(store, key);
      await store.ensureContainer();
      return (await client.deleteIfExists()).succeeded;
    },
  };
}

/** What the store's operations share. */
interface BlobStoreContext {
  readonly container: ContainerClient;
  readonly prefix: string;
  readonly blockBytes: number;
  readonly maxConcurrency: number;
  readonly ensureContainer: () => Promise<void>;
  readonly onCorrupt: CorruptReadSink | undefined;
}

function blobOf(store: BlobStoreContext, key: string): BlockBlobClient {
  if (key.length > 512 || !KEY_PATTERN.test(key) || key.split('/').some((s) => s === '.' || s === '..'))
    throw new Error(
      `Invalid payload key "${key.slice(0, 80)}": use /-separated ` +
        `segments of [A-Za-z0-9._~-] (not . or ..), at most 512 characters.`,
    );
  return store.container.getBlockBlobClient(`${store.prefix}${key}`);
}

async function putPayload(
  store: BlobStoreContext,
  key: string,
  body: AsyncIterable<Uint8Array>,
  meta: PayloadMeta,
  signal: AbortSignal | undefined,
): Promise<{ bytes: number }> {
  const client = blobOf(store, key);
  await store.ensureContainer();
  signal?.throwIfAborted();
  let bytes = 0;
  let bodyError: unknown;
  const source = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) {
        signal?.throwIfAborted();
        bytes += chunk.byteLength;
        // Copy: the writer may reuse its buffer after yielding it, and uploadStream keeps chunks until a block
        // fills.
        yield Buffer.from(chunk);
      }
      signal?.throwIfAborted();
    } catch (error) {
      bodyError = error;
      throw error;
    }
  };
  const stream = Readable.from(source(), { objectMode: false });
  try {
    await client.uploadStream(stream, store.blockBytes, store.maxConcurrency, {
      blobHTTPHeaders: meta.contentType === undefined ? {} : { blobContentType: meta.contentType },
      metadata: { [PAYLOAD_META_KEY]: encodeMeta(meta) },
      ...(signal === undefined ? {} : { abortSignal: signal }),
    });
  } catch (error) {
    stream.destroy();
    // Prefer the body's own error (what the caller cares about) over the SDK's wrapper of it.
    throw bodyError ?? error;
  }
  if (bodyError !== undefined) throw bodyError;
  return { bytes };
}

async function getPayload(store: BlobStoreContext, key: string): Promise<StoredPayload | undefined> {
  const client = blobOf(store, key);
  await store.ensureContainer();
  const response = await absentOn404(client.download());
  if (response === undefined) return undefined;
  const stream = response.readableStreamBody;
  const where = { store: 'payload-meta', location: store.container.containerName, key: client.name };
  return {
    meta: decodeMeta(response.metadata?.[PAYLOAD_META_KEY], where, store.onCorrupt),
    bytes: response.contentLength ?? 0,
    body: stream === undefined ? emptyBody() : (stream as unknown as AsyncIterable<Uint8Array>),
  };
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {
  // Nothing to read.
}

/** `gwmeta` = URI-encoded JSON `{ v: 1, contentType?, attributes? }` (metadata values must be ASCII). */
function encodeMeta(meta: PayloadMeta): string {
  return encodeURIComponent(
    JSON.stringify({
      v: 1,
      ...(meta.contentType === undefined ? {} : { contentType: meta.contentType }),
      ...(meta.attributes === undefined ? {} : { attributes: meta.attributes }),
    }),
  );
}

/**
 * Checked against `payloadMetaSchema`. Corrupt metadata is reported and read as none: it is advisory (the
 * engine takes a job's content type and headers from the job record), the body is intact (ADR 0039).
 */
function decodeMeta(
  value: string | undefined,
  where: StoredRecordWhere,
  onCorrupt: CorruptReadSink | undefined,
): PayloadMeta {
  if (value === undefined) return {};
  try {
    let text: string;
    try {
      text = decodeURIComponent(value);
    } catch {
      throw new StoredRecordError({ ...where, problem: `${PAYLOAD_META_KEY} is not URI-encoded` });
    }
    const parsed = readStoredJson(payloadMetaSchema, text, where);
    return {
      ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
      ...(parsed.attributes === undefined ? {} : { attributes: parsed.attributes }),
    };
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    onCorrupt?.(error);
    return {};
  }
}
