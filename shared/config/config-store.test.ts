import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJsonFileConfigSource } from '../adapters/file/json-file-config-source.js';
import { MemoryQuotaStore } from '../adapters/memory/memory-quota-store.js';
import { FakeClock } from '../core/test-support/fake-clock.js';
import { GatewayError } from '../core/errors/gateway-error.js';
import { createAdmission } from '../core/governance/admission.js';
import { hashApiKey } from '../core/governance/hash-api-key.js';
import type { ConfigSource } from '../ports/config-source.js';
import { createConfigStore, type ConfigReloadEvent, type ValidationResult } from './config-store.js';
import { governanceSchema } from './governance-schema.js';

/** A local root schema with the governance section, standing in for the composed gateway schema. */
const testSchema = z.object({ governance: governanceSchema.default(governanceSchema.parse({})) }).strict();
type TestConfig = z.output<typeof testSchema>;
const validate = (raw: unknown): ValidationResult<TestConfig> => {
  const r = testSchema.safeParse(raw);
  return r.success
    ? { ok: true, config: r.data }
    : { ok: false, issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
};

/** A source whose content the test sets. */
function memorySource(
  initial: unknown,
): ConfigSource & { set(raw: unknown): void; fail(message: string): void; changed(): void } {
  let raw: unknown = initial;
  let error: string | undefined;
  const listeners = new Set<() => void>();
  return {
    name: 'memory',
    load: () => (error === undefined ? Promise.resolve(structuredClone(raw)) : Promise.reject(new Error(error))),
    watch: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
    set: (next) => ((raw = next), (error = undefined)),
    fail: (message) => (error = message),
    changed: () => listeners.forEach((fn) => fn()),
  };
}

const KEY = 'sk-alice';
const governance = (suspendedUsers: string[] = []) => ({
  governance: {
    identity: {
      apiKeys: { enabled: true, keys: [{ id: 'alice', sha256: hashApiKey(KEY), profile: 'p', userId: 'alice' }] },
    },
    profiles: [{ id: 'p' }],
    suspendedUsers,
  },
});

describe('ConfigStore', () => {
  it('swaps a valid configuration and reports the reload', async () => {
    const source = memorySource(governance());
    const events: ConfigReloadEvent[] = [];
    const store = createConfigStore({ source, validate, onReload: (e) => events.push(e), clock: new FakeClock(42) });
    expect(store.loaded()).toBe(false);
    expect(() => store.current()).toThrow(/No configuration/);
    expect(await store.reload()).toEqual({ ok: true });
    const first = store.current();
    expect(Object.isFrozen(first.governance.profiles[0])).toBe(true);
    source.set(governance(['bob']));
    await store.reload();
    expect(store.current().governance.suspendedUsers).toEqual(['bob']);
    expect(first.governance.suspendedUsers).toEqual([]);
    expect(events).toEqual([
      { ok: true, source: 'memory', atMs: 42 },
      { ok: true, source: 'memory', atMs: 42 },
    ]);
  });

  it('rejects an invalid configuration with its issues and keeps the last good one', async () => {
    const source = memorySource(governance());
    const events: ConfigReloadEvent[] = [];
    const store = createConfigStore({ source, validate, onReload: (e) => events.push(e) });
    await store.reload();
    const good = store.current();
    source.set({
      governance: {
        profiles: [{ id: 'p', tier: 'no-such-tier' }],
        identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: 'plain-text-key', profile: 'p' }] } },
      },
    });
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.issues?.join('\n')).toMatch(/sha256/);
    expect(store.current()).toBe(good);
    source.fail('unreadable');
    expect(await store.reload()).toEqual({ ok: false, issues: ['memory: unreadable'] });
    expect(store.current()).toBe(good);
    expect(events.map((e) => e.ok)).toEqual([true, false, false]);
    expect(events[1]?.issues?.length).toBeGreaterThan(0);
  });

  it('runs reloads one at a time, in call order', async () => {
    const source = memorySource(governance(['a']));
    const store = createConfigStore({ source, validate });
    const first = store.reload();
    source.set(governance(['b']));
    const second = store.reload();
    await Promise.all([first, second]);
    expect(store.current().governance.suspendedUsers).toEqual(['b']);
  });

  it('coalesces reloads asked for while one waits: one running and one waiting at most', async () => {
    const source = memorySource(governance(['a']));
    let loads = 0;
    let releaseFirst: () => void = () => {};
    let firstStarted: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const counted: ConfigSource = {
      ...source,
      load: async () => {
        loads += 1;
        if (loads === 1) firstStarted();
        if (loads === 1) await firstHeld; // the first reload is still loading while the others are asked for
        return source.load();
      },
    };
    const store = createConfigStore({ source: counted, validate });
    const running = store.reload();
    await started;
    const waiting = Array.from({ length: 5 }, (_, i) => (source.set(governance([`u${i}`])), store.reload()));
    releaseFirst();
    const outcomes = await Promise.all([running, ...waiting]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(loads).toBe(2);
    expect(new Set(waiting).size).toBe(1);
    expect(store.current().governance.suspendedUsers).toEqual(['u4']);
    await store.reload();
    expect(loads).toBe(3); // once nothing waits, a reload loads again
  });

  it('applies a suspension to the next request after a reload; the request in flight keeps its snapshot', async () => {
    const source = memorySource(governance());
    const store = createConfigStore({ source, validate });
    await store.reload();
    const admission = createAdmission({
      governance: () => store.current().governance,
      quotas: new MemoryQuotaStore(),
      clock: new FakeClock(),
    });
    const request = () => ({ method: 'POST', path: '/v1/chat/completions', headers: new Headers({ 'api-key': KEY }) });
    const inFlight = await admission.admit(request());
    source.set(governance(['alice']));
    await store.reload();
    const error = await admission.admit(request()).catch((e: unknown) => e as GatewayError);
    expect(error).toMatchObject({ code: 'GW_ERR_AUTH_SUSPENDED', status: 403 });
    expect(inFlight.governance.suspendedUsers).toEqual([]);
  });

  it('reloads when the source reports a change, until unwatched', async () => {
    const source = memorySource(governance());
    let reloaded: () => void = () => undefined;
    const store = createConfigStore({ source, validate, onReload: () => reloaded() });
    await store.reload();
    const stop = store.watch();
    source.set(governance(['x']));
    await new Promise<void>((resolve) => {
      reloaded = resolve;
      source.changed();
    });
    expect(store.current().governance.suspendedUsers).toEqual(['x']);
    stop();
  });
});

describe('ConfigStore with a watched JSON file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads when the file changes, keeps the last good config on a broken save, and recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-store-'));
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, JSON.stringify(governance()));
    let waiter: ((e: ConfigReloadEvent) => void) | undefined;
    const store = createConfigStore({
      source: createJsonFileConfigSource({ file, debounceMs: 20 }),
      validate,
      onReload: (e) => waiter?.(e),
    });
    const next = () => new Promise<ConfigReloadEvent>((resolve) => (waiter = resolve));
    await store.reload();
    const stop = store.watch();
    try {
      let event = next();
      writeFileSync(file, JSON.stringify(governance(['alice'])));
      expect(await event).toMatchObject({ ok: true, source: file });
      expect(store.current().governance.suspendedUsers).toEqual(['alice']);

      event = next();
      writeFileSync(file, '{ "governance": ');
      const broken = await event;
      expect(broken.ok).toBe(false);
      expect(broken.issues?.[0]).toContain(file);
      expect(store.current().governance.suspendedUsers).toEqual(['alice']);

      event = next();
      writeFileSync(file, JSON.stringify(governance()));
      expect((await event).ok).toBe(true);
      expect(store.current().governance.suspendedUsers).toEqual([]);
    } finally {
      stop();
    }
  });
});
