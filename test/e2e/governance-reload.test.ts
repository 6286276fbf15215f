import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJsonFileConfigSource } from '../../shared/adapters/file/json-file-config-source.js';
import { createMemoryUsageLedger } from '../../shared/adapters/memory/memory-usage-ledger.js';
import { createRuntime, type GatewayRuntime } from '../../shared/composition/create-runtime.js';
import { createConfigStore, type ConfigReloadEvent, type ConfigStore } from '../../shared/config/config-store.js';
import type { GatewayConfig, GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { validateConfig } from '../../shared/config/load-config.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startNodeHost, type NodeHost } from '../../shared/standalone/node-host.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { postJson, readSse } from '../support/gateway-harness.js';

/**
 * Hot reload of governance through the HTTP surface: a JSON file, the config store, a runtime reading
 * `store.current()` per request, and the standalone host. Reloads are awaited through the store's
 * `onReload` events, never slept for.
 */

const ALICE = 'sk-gw-reload-alice-0123456789';
const BOB = 'sk-gw-reload-bob-0123456789';
const CAROL = 'sk-gw-reload-carol-0123456789';

interface Knobs {
  readonly aliceSuspended?: boolean;
  readonly suspendedUsers?: string[];
  readonly models?: string[];
  readonly withCarol?: boolean;
}

function configFor(simUrl: string, knobs: Knobs = {}): GatewayConfigInput {
  return {
    backends: [{ id: 'a', url: simUrl, kind: 'openai' }],
    pools: [{ id: 'main', backends: ['a'] }],
    routes: [{ id: 'chat', match: { models: knobs.models ?? ['gpt-4o-mini'] }, pool: 'main' }],
    governance: {
      identity: {
        apiKeys: {
          enabled: true,
          keys: [
            {
              id: 'alice',
              sha256: hashApiKey(ALICE),
              profile: 'standard',
              userId: 'alice',
              suspended: knobs.aliceSuspended ?? false,
            },
            { id: 'bob', sha256: hashApiKey(BOB), profile: 'standard', userId: 'bob' },
            ...(knobs.withCarol === true
              ? [{ id: 'carol', sha256: hashApiKey(CAROL), profile: 'standard', userId: 'carol' }]
              : []),
          ],
        },
      },
      profiles: [{ id: 'standard', tier: 'standard' }],
      suspendedUsers: knobs.suspendedUsers ?? [],
    },
  };
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function expectRefused(response: Response, status: number, code: string): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  expect({
    status: response.status,
    code: body.error.code,
    header: response.headers.get('x-gateway-error-code'),
  }).toEqual({ status, code, header: code });
  return body;
}

const chat = (model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user', content: 'Hello there' }] });

describe('governance hot reload through the standalone host', () => {
  let sim: RunningSimulator;
  let dir: string;
  let file: string;
  let store: ConfigStore<GatewayConfig>;
  let runtime: GatewayRuntime;
  let host: NodeHost;
  const events: ConfigReloadEvent[] = [];
  let eventWaiters: ((e: ConfigReloadEvent) => void)[] = [];

  /** Resolves with the next reload event (bounded: a watch that never fires fails the test). */
  function nextReload(timeoutMs = 10_000): Promise<ConfigReloadEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reload event within ${timeoutMs} ms`)), timeoutMs);
      eventWaiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /** Writes the file and reloads it explicitly; resolves with the event the reload reported. */
  async function writeAndReload(content: string): Promise<ConfigReloadEvent> {
    await writeFile(file, content);
    const event = nextReload();
    await store.reload();
    return event;
  }

  const url = () => `${host.url}/v1/chat/completions`;

  beforeAll(async () => {
    sim = await startSimulator({ name: 'a', port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'gw-governance-reload-'));
    file = join(dir, 'gateway.config.json');
    store = createConfigStore({
      source: createJsonFileConfigSource({ file, debounceMs: 50 }),
      validate: validateConfig,
      onReload: (event) => {
        events.push(event);
        const waiters = eventWaiters;
        eventWaiters = [];
        for (const w of waiters) w(event);
      },
    });
    const first = await writeAndReload(JSON.stringify(configFor(sim.url)));
    if (!first.ok) throw new Error(`initial config invalid: ${first.issues?.join('\n') ?? ''}`);
    runtime = createRuntime({ config: () => store.current(), ledger: createMemoryUsageLedger() });
    host = await startNodeHost(runtime.gateway, { port: 0 });
  });
  afterAll(async () => {
    await host?.close();
    await runtime?.close();
    await sim?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const first = await writeAndReload(JSON.stringify(configFor(sim.url)));
    expect(first.ok).toBe(true);
    sim.reset();
  });
  afterEach(() => {
    eventWaiters = [];
  });

  it('suspends a key from the next request after a reload while earlier calls stream on to a clean end', async () => {
    // Three slow streams (40 tokens at 20 tokens/s ≈ 2 s each), all admitted and streaming before the reload.
    const inFlight = await Promise.all(
      [0, 1, 2].map(() =>
        postJson(url(), { ...chat(), stream: true }, { 'api-key': ALICE, 'x-sim-fault': 'tps=20;tokens=40' }),
      ),
    );
    for (const r of inFlight) expect(r.status).toBe(200);
    await sim.waitForAttempts(3);
    const reading = inFlight.map((r) => readSse(r));

    const event = await writeAndReload(JSON.stringify(configFor(sim.url, { aliceSuspended: true })));
    expect(event).toMatchObject({ ok: true, source: file });
    expect(sim.attempts().every((a) => a.outcome === 'pending')).toBe(true);

    await expectRefused(await postJson(url(), chat(), { 'api-key': ALICE }), 403, 'GW_ERR_AUTH_SUSPENDED');
    const other = await postJson(url(), chat(), { 'api-key': BOB });
    expect(other.status).toBe(200);
    await other.text();

    for (const { events: sse, ended } of await Promise.all(reading)) {
      expect(ended).toBe('clean');
      expect(sse.at(-1)).toBe('[DONE]');
      const text = sse
        .slice(0, -1)
        .map((e) => JSON.parse(e) as { choices: { delta?: { content?: string } }[] })
        .map((c) => c.choices[0]?.delta?.content ?? '')
        .join('');
      expect(text.split(' ').filter(Boolean)).toHaveLength(40);
    }
    // Three streams and Bob's call reached the backend; the suspended call did not.
    expect(sim.attempts().map((a) => a.stream)).toEqual([true, true, true, false]);
    expect(
      sim
        .attempts()
        .slice(0, 3)
        .every((a) => a.outcome === 'ok'),
    ).toBe(true);
  });

  it('applies suspendedUsers from a reload on the next request', async () => {
    expect((await postJson(url(), chat(), { 'api-key': BOB })).status).toBe(200);
    expect((await writeAndReload(JSON.stringify(configFor(sim.url, { suspendedUsers: ['BOB'] })))).ok).toBe(true);
    await expectRefused(await postJson(url(), chat(), { 'api-key': BOB }), 403, 'GW_ERR_AUTH_SUSPENDED');
    expect(sim.attempts()).toHaveLength(1);
  });

  it('keeps the last good configuration when the file is not JSON, and reports the issue', async () => {
    const before = store.current();
    const event = await writeAndReload('{ "backends": [ this is not json');
    expect(event.ok).toBe(false);
    expect(event.source).toBe(file);
    expect(event.issues?.join('\n')).toContain(file);
    expect(event.issues?.join('\n')).toMatch(/JSON/);
    expect(store.current()).toBe(before);
    expect((await postJson(url(), chat(), { 'api-key': ALICE })).status).toBe(200);
  });

  it('keeps the last good configuration on a schema error, reports every issue, applies none of it', async () => {
    const before = store.current();
    const broken = configFor(sim.url, { aliceSuspended: true }) as {
      governance: { identity: { apiKeys: { keys: { sha256: string }[] } }; profiles: Record<string, unknown>[] };
    };
    broken.governance.identity.apiKeys.keys[1]!.sha256 = 'the-plain-key-by-mistake';
    broken.governance.profiles.push({ id: 'evil', injectHeaders: { 'x-owner': 'a\r\nx-injected: 1' } });
    const event = await writeAndReload(JSON.stringify(broken));
    expect(event.ok).toBe(false);
    const issues = event.issues?.join('\n') ?? '';
    expect(issues).toMatch(
      /governance\.profiles\.1\.injectHeaders\.x-owner: a header value may not contain CR, LF or NUL/,
    );
    expect(issues).toMatch(/governance\.identity\.apiKeys\.keys\.1\.sha256: sha256 must be 64 hexadecimal characters/);
    expect(store.current()).toBe(before);
    // The rejected file suspended Alice: that must not have taken effect.
    expect((await postJson(url(), chat(), { 'api-key': ALICE })).status).toBe(200);
    expect(sim.attempts()).toHaveLength(1);

    // A cross-reference error alone (a key naming an unknown profile) is reported by name.
    const ghost = configFor(sim.url) as { governance: { identity: { apiKeys: { keys: { profile: string }[] } } } };
    ghost.governance.identity.apiKeys.keys[1]!.profile = 'ghost';
    const second = await writeAndReload(JSON.stringify(ghost));
    expect(second.ok).toBe(false);
    expect(second.issues?.join('\n')).toMatch(
      /governance\.identity\.apiKeys\.keys\.1\.profile: unknown profile "ghost"/,
    );
    expect((await postJson(url(), chat(), { 'api-key': BOB })).status).toBe(200);
  });

  it('picks up a saved file through watch(): new routes and a new key take effect from the next request', async () => {
    await expectRefused(
      await postJson(url(), chat('gpt-4o'), { 'api-key': ALICE }),
      404,
      'GW_ERR_REQUEST_MODEL_NOT_FOUND',
    );
    await expectRefused(await postJson(url(), chat(), { 'api-key': CAROL }), 401, 'GW_ERR_AUTH_INVALID_KEY');
    expect(sim.attempts()).toHaveLength(0);

    const stop = store.watch();
    try {
      // Saved the way editors and deploy tools do: a temporary file renamed over the original.
      const reloaded = nextReload();
      const temporary = join(dir, 'gateway.config.json.tmp');
      await writeFile(
        temporary,
        JSON.stringify(configFor(sim.url, { models: ['gpt-4o-mini', 'gpt-4o'], withCarol: true })),
      );
      await rename(temporary, file);
      const event = await reloaded;
      expect(event).toMatchObject({ ok: true, source: file });
    } finally {
      stop();
    }
    const served = await postJson(url(), chat('gpt-4o'), { 'api-key': ALICE });
    expect(served.status).toBe(200);
    expect(((await served.json()) as { model: string }).model).toBe('gpt-4o');
    const carol = await postJson(url(), chat(), { 'api-key': CAROL });
    expect(carol.status).toBe(200);
    await carol.text();
    expect(sim.attempts().map((a) => a.model)).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});
