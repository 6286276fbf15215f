import type { BackendConfig } from '../../config/schema.js';
import type { BackendTransport } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import { concatBytes } from '../concat-bytes.js';

/** One model a backend lists on its own `GET /v1/models`. */
export interface BackendModel {
  readonly id: string;
  readonly created: number;
  readonly ownedBy: string;
}

/** Bounds of {@link BackendModelLists}; every one has a default. */
export interface BackendModelListsOptions {
  /** How long a backend's list is reused (default 60 s). */
  readonly ttlMs?: number;
  /** How long a failed or refused fetch is remembered as empty before it is tried again (default 10 s). */
  readonly failureTtlMs?: number;
  /** Models kept per backend; the rest of a longer list is ignored (default 1,000). */
  readonly maxModels?: number;
  /** Largest list body read (default 1 MiB); a larger one counts as a failure. */
  readonly maxBodyBytes?: number;
  /** Deadline of one fetch, connect to last byte (default 5 s). */
  readonly timeoutMs?: number;
  /** Backends remembered at once (default 256): the oldest entry goes first, so reloads cannot grow it. */
  readonly maxEntries?: number;
}

interface Entry {
  models: Promise<readonly BackendModel[]>;
  expiresAtMs: number;
}

/**
 * The model lists of OpenAI-compatible backends (`GET {url}/v1/models`), fetched with the backend's own
 * credentials, cached briefly and bounded (entries, models per backend, body bytes, time). Concurrent askers
 * share one fetch. A failure is an empty list for `failureTtlMs` — never an error to the caller, whose list
 * then holds the configured names only.
 *
 * @example
 * const lists = new BackendModelLists({ transport, credentials, clock });
 * const models = await lists.of(backend); // [{ id: 'gpt-4o', created: 1700000000, ownedBy: 'openai' }, …]
 */
export class BackendModelLists {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly maxModels: number;
  private readonly maxBodyBytes: number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly deps: {
      readonly transport: BackendTransport;
      readonly credentials: CredentialProvider;
      readonly clock: Clock;
    },
    options: BackendModelListsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.failureTtlMs = options.failureTtlMs ?? 10_000;
    this.maxModels = options.maxModels ?? 1_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 256;
  }

  /** The backend's models: from the cache while fresh, else fetched (once for all concurrent askers). */
  of(backend: BackendConfig): Promise<readonly BackendModel[]> {
    // A reload that points an id at another URL starts a new entry.
    const key = `${backend.id}\n${backend.url}`;
    const now = this.deps.clock.now();
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.expiresAtMs > now) return cached.models;
    this.entries.delete(key);
    const entry: Entry = { models: Promise.resolve([]), expiresAtMs: now + this.ttlMs };
    entry.models = this.fetch(backend).catch(() => {
      entry.expiresAtMs = this.deps.clock.now() + this.failureTtlMs;
      return [];
    });
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry.models;
  }

  private async fetch(backend: BackendConfig): Promise<readonly BackendModel[]> {
    const url = new URL(backend.url);
    const signal = AbortSignal.timeout(this.timeoutMs);
    const auth = await this.deps.credentials.headersFor(backend, signal);
    const response = await this.deps.transport.send({
      backendId: backend.id,
      origin: url.origin,
      path: `${url.pathname.replace(/\/+$/, '')}/v1/models`,
      method: 'GET',
      headers: { accept: 'application/json', ...backend.headers, ...auth },
      body: null,
      signal,
      firstByteTimeoutMs: this.timeoutMs,
      idleTimeoutMs: this.timeoutMs,
      connectTimeoutMs: this.timeoutMs,
    });
    if (response.status !== 200) {
      await response.dump();
      throw new Error(`GET /v1/models answered ${response.status}`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > this.maxBodyBytes) {
        await response.dump();
        throw new Error(`GET /v1/models answered more than ${this.maxBodyBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return this.parse(new TextDecoder().decode(concatBytes(chunks, total)));
  }

  private parse(text: string): readonly BackendModel[] {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new Error('GET /v1/models answered no "data" list');
    const models: BackendModel[] = [];
    for (const item of data as unknown[]) {
      if (models.length >= this.maxModels) break;
      const { id, created, owned_by: ownedBy } = (item ?? {}) as Record<string, unknown>;
      if (typeof id !== 'string' || id === '' || id.length > 256) continue;
      models.push({
        id,
        created: typeof created === 'number' && Number.isFinite(created) ? created : 0,
        ownedBy: typeof ownedBy === 'string' ? ownedBy : 'gateway',
      });
    }
    return models;
  }
}
