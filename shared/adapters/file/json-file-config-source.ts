import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { ConfigSource } from '../../ports/config-source.js';

/**
 * A {@link ConfigSource} reading one JSON file. `watch` observes the file's *directory*, not the file:
 * editors and deploy tools that save by writing a temporary file and renaming it over the original
 * replace the inode, which would silently end a watch on the file itself. Events for the file's name are
 * debounced (`debounceMs`, default 100 ms) into one `onChange`.
 *
 * @example
 * const source = createJsonFileConfigSource({ file: 'gateway.config.json' });
 * const store = createConfigStore({
 *   source,
 *   validate: validateConfig,
 *   onReload: (e) => telemetry.event('config.reload', e),
 * });
 * await store.reload();
 * const stop = store.watch();
 */
export function createJsonFileConfigSource(options: { file: string; debounceMs?: number }): ConfigSource {
  const file = resolve(options.file);
  const debounceMs = options.debounceMs ?? 100;
  return {
    name: file,
    async load() {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new Error(`${file}: file not found`, { cause: error }) : error;
      });
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`);
      }
    },
    watch(onChange) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const name = basename(file);
      const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        // Some platforms report no file name; treat that as a possible change.
        if (changed !== null && changed.toString() !== name) return;
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          onChange();
        }, debounceMs);
      });
      watcher.on('error', () => undefined);
      return () => {
        if (timer !== undefined) clearTimeout(timer);
        watcher.close();
      };
    },
  };
}
