import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonFileConfigSource } from '../adapters/file/json-file-config-source.js';
import type { ConfigSource } from '../ports/config-source.js';
import { configFileOf, fixedConfigSource, openHostConfig } from './host-config.js';
import { validateHostConfig } from './host-validation.js';

const minimal = {
  backends: [{ id: 'a', url: 'http://a.test' }],
  pools: [{ id: 'p', backends: ['a'] }],
  routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
};

/** A source whose content the test sets and whose change notification the test sends. */
function manualSource(initial: unknown): ConfigSource & { set(raw: unknown): void; change(): void } {
  let raw = initial;
  let onChange: (() => void) | undefined;
  return {
    name: 'manual',
    load: async () => raw,
    watch(listener) {
      onChange = listener;
      return () => (onChange = undefined);
    },
    set: (next) => (raw = next),
    change: () => onChange?.(),
  };
}

function recorder() {
  const events: { name: string; properties: Record<string, unknown> }[] = [];
  const lines: string[] = [];
  let notify: (() => void) | undefined;
  return {
    events,
    lines,
    telemetry: {
      event: (name: string, properties: Record<string, unknown> = {}) => {
        events.push({ name, properties });
        notify?.();
      },
    },
    log: (line: string) => void lines.push(line),
    next: () => new Promise<void>((resolve) => (notify = resolve)),
  };
}

describe('validateHostConfig', () => {
  it('applies the GATEWAY_* overlay over the raw configuration', () => {
    const result = validateHostConfig(minimal, { GATEWAY_SERVER__PORT: '9100', GATEWAY_FUNCTIONS__STORES: 'memory' });
    expect(result.ok && result.config.server.port).toBe(9100);
  });

  it('lists every schema problem', () => {
    const result = validateHostConfig({ server: { port: 'x' }, routes: [{ id: 'r' }] }, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.join('\n')).toMatch(/server\.port[\s\S]*routes/);
  });

  it('refuses a production configuration that names no callers', () => {
    const result = validateHostConfig(minimal, { GATEWAY_SERVER__MODE: 'production' });
    expect(result.ok).toBe(false);
  });
});

describe('configFileOf', () => {
  it('reads GATEWAY_CONFIG_FILE, which must then exist, and finds no file when none is named or present', () => {
    expect(configFileOf({ GATEWAY_CONFIG_FILE: '/nowhere/gateway.json' })).toBe('/nowhere/gateway.json');
    expect(configFileOf({})).toBeUndefined();
  });
});

describe('openHostConfig', () => {
  it('opens a fixed source and says where the configuration came from', async () => {
    const plain = await openHostConfig(fixedConfigSource('embedded defaults', minimal), {});
    expect(plain.ok && plain.config.source).toBe('embedded defaults');
    const overlaid = await openHostConfig(fixedConfigSource('embedded defaults', minimal), {
      GATEWAY_SERVER__PORT: '9100',
    });
    expect(overlaid.ok && overlaid.config.source).toBe('embedded defaults + GATEWAY_* environment');
    expect(overlaid.ok && overlaid.config.current().server.port).toBe(9100);
  });

  it('refuses a configuration file that is missing or is not JSON, naming it once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-host-config-'));
    const missing = await openHostConfig(createJsonFileConfigSource({ file: join(dir, 'absent.json') }), {});
    expect(missing).toMatchObject({ ok: false, issues: [`${join(dir, 'absent.json')}: file not found`] });
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    const bad = await openHostConfig(createJsonFileConfigSource({ file: join(dir, 'bad.json') }), {});
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0]!.split(join(dir, 'bad.json')).length).toBe(2);
  });

  it('reports each reload once attached — applied, or refused while the last good configuration stays', async () => {
    const source = manualSource(minimal);
    const opened = await openHostConfig(source, {});
    if (!opened.ok) throw new Error(opened.issues.join('\n'));
    const seen = recorder();
    opened.config.report(seen.telemetry, seen.log);
    const stop = opened.config.watch();

    source.set({ ...minimal, server: { port: 9200 } });
    let reported = seen.next();
    source.change();
    await reported;
    expect(opened.config.current().server.port).toBe(9200);

    source.set({ ...minimal, server: { mode: 'production' } });
    reported = seen.next();
    source.change();
    await reported;
    expect(opened.config.current().server.port).toBe(9200);

    stop();
    expect(seen.events).toEqual([
      { name: 'ConfigReload', properties: { ok: true, source: 'manual', issues: undefined } },
      {
        name: 'ConfigReload',
        properties: { ok: false, source: 'manual', issues: expect.stringContaining('production') },
      },
    ]);
    expect(seen.lines[0]).toBe('gateway: configuration reloaded from manual');
    expect(seen.lines[1]).toMatch(
      /^gateway: configuration reload from manual refused, the last good configuration stays:\n {2}- /,
    );
  });
});
