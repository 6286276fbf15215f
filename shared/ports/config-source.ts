/**
 * Where the raw configuration comes from: a JSON file (watched), App Configuration (sentinel key), a
 * Blob URL. A source only reads; validation and the atomic swap belong to the config store
 * (`shared/config/config-store.ts`).
 *
 * @example
 * const raw = await source.load();
 * const stop = source.watch(() => void store.reload());
 */
export interface ConfigSource {
  /** Names the source in reload events and logs (a file path, an App Configuration endpoint). */
  readonly name: string;
  /** Reads the whole raw configuration (not yet validated). Rejects when it cannot be read or parsed. */
  load(): Promise<unknown>;
  /**
   * Calls `onChange` (debounced) whenever the configuration may have changed; the listener then calls
   * `load()`. Returns a function that stops watching. Spurious calls are allowed; missed changes are not.
   */
  watch(onChange: () => void): () => void;
}
