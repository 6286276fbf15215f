import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { startAzurite, type RunningAzurite } from '../../simulator/azurite.js';
import { buildHost, startHostProcess, type HostProcess } from '../support/host-process.js';

const KEY = 'gw-storage-test-key';
const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: chat,
  });

describe('npm start -- --storage azurite, as a process, with storage that goes away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-storage-'));
  let sim: RunningSimulator;
  const running: HostProcess[] = [];
  beforeAll(async () => {
    await buildHost();
    sim = await startSimulator({ name: 'sim', port: 0 });
    const config = {
      backends: [{ id: 'sim', url: sim.url }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'chat', match: { models: ['gpt-4o'] }, pool: 'main' }],
      governance: {
        identity: {
          anonymous: { allowed: true },
          apiKeys: { enabled: true, keys: [{ id: 'team-a', sha256: hashApiKey(KEY), profile: 'metered' }] },
        },
        // A token quota: every call of this caller reserves in the Table quota store.
        profiles: [{ id: 'metered', quotas: { tokensPerDay: 1_000_000 } }],
      },
    };
    writeFileSync(join(dir, 'gateway.config.json'), JSON.stringify(config));
  }, 300_000);
  afterAll(async () => {
    await Promise.all(running.map((h) => h.stop('SIGKILL')));
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start when the storage account does not answer, naming the account and endpoint', async () => {
    // A port nothing listens on: Azurite's well-known account, at an endpoint that refuses connections.
    const closed = await startAzurite();
    const { tableEndpoint, connectionString } = closed;
    await closed.stop();
    const host = startHostProcess(
      ['--storage', 'azurite', '--port', '0'],
      { AzureWebJobsStorage: connectionString },
      dir,
    );
    running.push(host);
    expect((await host.exited).code).toBe(1);
    const stderr = host.stderr().trim();
    expect(stderr).toMatch(/^gateway: cannot start: storage account devstoreaccount1 at http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toContain(`${tableEndpoint.replace(/\/$/, '')} (AzureWebJobsStorage) does not answer`);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr.split('\n')).toHaveLength(1);
    expect(host.stdout()).toBe('');
  }, 120_000);

  it('answers 503 GW_ERR_STORAGE_UNAVAILABLE while storage is down, in readiness too, spills on stop', async () => {
    const azurite: RunningAzurite = await startAzurite();
    let stopped = false;
    try {
      const host = startHostProcess(
        ['--storage', 'azurite', '--port', '0', '--host', '127.0.0.1'],
        { AzureWebJobsStorage: azurite.connectionString, GATEWAY_USAGE__LEDGER__KIND: 'memory' },
        dir,
      );
      running.push(host);
      const listening = /gateway listening on (http:\/\/127\.0\.0\.1:\d+) /.source;
      const storage = /.*storage: azurite, account devstoreaccount1 at http:\/\/127\.0\.0\.1:\d+/.source;
      const [, url] = await host.waitFor(new RegExp(listening + storage));
      expect((await post(url!, { 'api-key': KEY })).status).toBe(200);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);

      await azurite.stop();
      stopped = true;
      const metered = await post(url!, { 'api-key': KEY });
      expect(metered.status).toBe(503);
      const body = (await metered.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('GW_ERR_STORAGE_UNAVAILABLE');
      expect(body.error.message).toContain('account devstoreaccount1 at http://127.0.0.1:');
      // A caller without a quota needs no storage on its path: served, its record buffered for the ledger.
      const anonymous = await post(url!);
      expect(anonymous.status).toBe(200);
      const requestId = anonymous.headers.get('x-gateway-request-id')!;
      const ready = await fetch(`${url}/health/ready`);
      expect(ready.status).toBe(503);
      const readiness = (await ready.json()) as { stores: { health: string; storage: { account: string } } };
      expect(readiness.stores.health).toMatch(/^unreachable: /);
      expect(readiness.stores.storage.account).toBe('devstoreaccount1');

      const end = await host.stop('SIGTERM');
      expect(end.code).toBe(0);
      const spill = join(dir, 'gateway-usage-spill.ndjson');
      expect(host.stderr()).toContain(`kept in ${spill}`);
      expect(host.stderr()).not.toMatch(/BatchWriteError|\n\s+at /);
      expect(existsSync(spill)).toBe(true);
      const spilled = readFileSync(spill, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { requestId: string });
      expect(spilled.map((r) => r.requestId)).toContain(requestId);
    } finally {
      if (!stopped) await azurite.stop();
    }
  }, 120_000);
});
