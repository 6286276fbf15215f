import type { Generation } from './generation.js';
import { finishedStatus, responseObject, type ResponseMeta } from './render-responses.js';

interface StoredResponse {
  readonly generation: Generation;
  readonly meta: ResponseMeta;
  /** For background responses: when the simulated work finishes (simulator clock, ms). */
  readonly completeAtMs: number;
}

/**
 * The Responses API objects this instance created, so that `GET` / `DELETE /v1/responses/{id}` and
 * `previous_response_id` only work against the instance that holds them. Bounded: the oldest entry is
 * dropped once `capacity` is reached.
 */
export class ResponseStore {
  private readonly entries = new Map<string, StoredResponse>();

  constructor(private readonly capacity: number) {}

  /** Remembers a response; background ones finish at `completeAtMs`. */
  put(generation: Generation, meta: ResponseMeta, completeAtMs: number): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(generation.id, { generation, meta, completeAtMs });
  }

  /** True when this instance holds the response. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The response as it stands at `nowMs` (`in_progress` until a background one finishes), or null. */
  get(id: string, nowMs: number): Record<string, unknown> | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const status = nowMs < entry.completeAtMs ? 'in_progress' : finishedStatus(entry.generation);
    return responseObject(entry.generation, entry.meta, status);
  }

  /** Forgets a response; false when it was not held. */
  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}
