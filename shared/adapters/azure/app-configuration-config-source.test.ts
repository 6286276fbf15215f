import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppConfigurationClient } from '@azure/app-configuration';
import { DefaultAzureCredential } from '@azure/identity';
import { createConfigStore } from '../../config/config-store.js';
import { createAppConfigurationConfigSource } from './app-configuration-config-source.js';
import { FakeAppConfiguration } from './test-support/fake-app-configuration.js';

let fake: FakeAppConfiguration;
let client: AppConfigurationClient;

beforeEach(async () => {
  fake = new FakeAppConfiguration();
  const connectionString = await fake.start();
  // allowInsecureConnection: the fake speaks plain HTTP on loopback; the SDK refuses http otherwise.
  client = new AppConfigurationClient(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
});
afterEach(() => fake.stop());

const json = 'application/json';
const source = (pollIntervalMs?: number) =>
  createAppConfigurationConfigSource(
    { client },
    { endpoint: 'fake', label: 'prod', ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) },
  );

describe('AppConfigurationConfigSource (loopback fake of the REST API)', () => {
  it('assembles the keys under the prefix and label into the raw config object', async () => {
    fake.set({ key: 'gateway:routes', label: 'prod', value: '[{"id":"chat"}]', contentType: json });
    fake.set({ key: 'gateway:server:port', label: 'prod', value: '8080', contentType: json });
    fake.set({ key: 'gateway:server:host', label: 'prod', value: '"0.0.0.0"' });
    fake.set({ key: 'gateway:sentinel', label: 'prod', value: '1' });
    fake.set({ key: 'gateway:routes', label: 'dev', value: '"other label"', contentType: json });
    fake.set({ key: 'other:x', label: 'prod', value: '1' });
    expect(await source().load()).toEqual({ routes: [{ id: 'chat' }], server: { port: 8080, host: '0.0.0.0' } });
  });

  it('fails the load naming the key whose value is not JSON', async () => {
    fake.set({ key: 'gateway:routes', label: 'prod', value: '[{oops', contentType: json });
    await expect(source().load()).rejects.toThrow(/gateway:routes: value is not valid JSON/);
  });

  it('fails the load on keys that claim the same path, and on Key Vault references', async () => {
    fake.set({ key: 'gateway:server', label: 'prod', value: '{"port":1}', contentType: json });
    fake.set({ key: 'gateway:server:port', label: 'prod', value: '2', contentType: json });
    await expect(source().load()).rejects.toThrow(/overlaps/);
    fake.delete('gateway:server', 'prod');
    fake.set({
      key: 'gateway:secret',
      label: 'prod',
      value: '{"uri":"https://kv/x"}',
      contentType: 'application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8',
    });
    await expect(source().load()).rejects.toThrow(/Key Vault references/);
  });

  it('calls onChange when the sentinel changes, and not while it stays the same', async () => {
    fake.set({ key: 'gateway:sentinel', label: 'prod', value: '1' });
    const s = source();
    await s.load();
    let changes = 0;
    const stop = s.watch(() => changes++);
    try {
      expect(await s.checkNow()).toBe(false);
      expect(await s.checkNow()).toBe(false);
      expect(changes).toBe(0);
      fake.set({ key: 'gateway:sentinel', label: 'prod', value: '2' });
      expect(await s.checkNow()).toBe(true);
      expect(changes).toBe(1);
      expect(await s.checkNow()).toBe(false);
      fake.delete('gateway:sentinel', 'prod');
      expect(await s.checkNow()).toBe(true);
      expect(changes).toBe(2);
    } finally {
      stop();
    }
  });

  it('drives a validate-and-swap reload through the config store, keeping the last good one on a bad one', async () => {
    fake.set({ key: 'gateway:limit', label: 'prod', value: '1', contentType: json });
    fake.set({ key: 'gateway:sentinel', label: 'prod', value: 'a' });
    const s = source(20);
    const events: boolean[] = [];
    let reloaded: () => void = () => undefined;
    const validate = (raw: unknown) =>
      typeof (raw as { limit?: unknown }).limit === 'number'
        ? { ok: true as const, config: raw as { limit: number } }
        : { ok: false as const, issues: ['limit must be a number'] };
    const store = createConfigStore({
      source: s,
      validate,
      onReload: (e) => {
        events.push(e.ok);
        reloaded();
      },
    });
    expect((await store.reload()).ok).toBe(true);
    const stop = store.watch();
    try {
      const next = () =>
        new Promise<void>((resolve) => {
          reloaded = resolve;
        });
      let done = next();
      fake.set({ key: 'gateway:limit', label: 'prod', value: '2', contentType: json });
      fake.set({ key: 'gateway:sentinel', label: 'prod', value: 'b' });
      await done; // the interval poll saw the new sentinel and the store reloaded
      expect(store.current()).toEqual({ limit: 2 });
      done = next();
      fake.set({ key: 'gateway:limit', label: 'prod', value: '"three"', contentType: json });
      fake.set({ key: 'gateway:sentinel', label: 'prod', value: 'c' });
      await done;
      expect(store.current()).toEqual({ limit: 2 });
      expect(events).toEqual([true, true, false]);
    } finally {
      stop();
    }
  });

  it('is refused by the fake when the request is not signed with the secret', async () => {
    const bad = new AppConfigurationClient(
      (await fake.stop(), await fake.start()).replace(
        /Secret=[^;]+/,
        `Secret=${Buffer.from('wrong').toString('base64')}`,
      ),
      { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
    );
    await expect(
      createAppConfigurationConfigSource({ client: bad }, { endpoint: 'fake' }).load(),
    ).rejects.toMatchObject({ statusCode: 401 });
  });
});

const endpoint = process.env.GATEWAY_TEST_APPCONFIG_ENDPOINT;
describe.skipIf(!endpoint)('AppConfigurationConfigSource (live App Configuration)', () => {
  it('loads the keys under gateway-test: with label test', async () => {
    const live = new AppConfigurationClient(endpoint ?? '', new DefaultAzureCredential());
    const s = createAppConfigurationConfigSource(
      { client: live },
      { endpoint: endpoint ?? '', keyPrefix: 'gateway-test:', label: 'test' },
    );
    expect(typeof (await s.load())).toBe('object');
    await s.checkNow();
  });
});
