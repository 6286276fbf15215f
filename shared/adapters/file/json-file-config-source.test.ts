import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJsonFileConfigSource } from './json-file-config-source.js';

let dir: string;
let stops: (() => void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
});
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves on the next onChange; fails the test after `boundMs` so a missed event cannot hang it. */
function nextChange(source: ReturnType<typeof createJsonFileConfigSource>, boundMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no change event')), boundMs);
    const stop = source.watch(() => {
      clearTimeout(timer);
      resolve();
    });
    stops.push(stop);
  });
}

describe('JsonFileConfigSource', () => {
  it('loads and parses the file', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, '{"governance":{"tiers":{"a":1}}}');
    await expect(createJsonFileConfigSource({ file }).load()).resolves.toEqual({ governance: { tiers: { a: 1 } } });
  });

  it('rejects with the file name when the JSON is invalid or the file is missing', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, '{ nope');
    await expect(createJsonFileConfigSource({ file }).load()).rejects.toThrow(file);
    await expect(createJsonFileConfigSource({ file: join(dir, 'missing.json') }).load()).rejects.toThrow(
      /missing.json: file not found/,
    );
  });

  it('reports an in-place write', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, '{}');
    const source = createJsonFileConfigSource({ file, debounceMs: 10 });
    const changed = nextChange(source);
    writeFileSync(file, '{"a":1}');
    await changed;
  });

  it('keeps reporting after an editor replaces the file by rename', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, '{}');
    const source = createJsonFileConfigSource({ file, debounceMs: 10 });
    const first = nextChange(source);
    writeFileSync(join(dir, 'tmp-1'), '{"a":1}');
    renameSync(join(dir, 'tmp-1'), file);
    await first;
    const second = nextChange(source);
    writeFileSync(join(dir, 'tmp-2'), '{"a":2}');
    renameSync(join(dir, 'tmp-2'), file);
    await second;
    await expect(source.load()).resolves.toEqual({ a: 2 });
  });

  it('ignores other files in the directory', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, '{}');
    const source = createJsonFileConfigSource({ file, debounceMs: 10 });
    let calls = 0;
    stops.push(source.watch(() => calls++));
    const changed = nextChange(source);
    writeFileSync(join(dir, 'other.json'), '{}');
    writeFileSync(file, '{"b":1}');
    await changed;
    expect(calls).toBeLessThanOrEqual(1);
  });
});
