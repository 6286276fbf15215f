import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { startStandaloneHost, type StandaloneHost } from './standalone-host.js';

const quiet = { GATEWAY_SERVER__PORT: '0', GATEWAY_USAGE__LEDGER__KIND: 'memory' };
const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
const post = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chat(model),
  });

describe('the standalone host', () => {
  let started: StandaloneHost | undefined;
  let sim: RunningSimulator | undefined;
  afterEach(async () => {
    await started?.close();
    await sim?.close();
    started = undefined;
    sim = undefined;
  });

  it('serves the embedded defaults through two built-in simulators when there is no configuration file', async () => {
    const result = await startStandaloneHost({ env: quiet, storage: 'memory', log: () => {} });
    if ('issues' in result) throw new Error(result.issues.join('\n'));
    started = result;
    expect(result.source).toBe('embedded defaults + GATEWAY_* environment');
    expect(result.watched).toBe(false);
    expect(result.simulatorUrls).toHaveLength(2);
    const response = await post(result.host.url, 'any-model-name');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-backend')).toMatch(/^simulator-[ab]$/);
  });

  it('serves a configuration file and applies an edit; refuses an invalid edit and keeps serving', async () => {
    sim = await startSimulator({ name: 'sim', port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'gw-standalone-')), 'gateway.config.json');
    const config = (models: string[]) =>
      JSON.stringify({
        backends: [{ id: 'sim', url: sim!.url }],
        pools: [{ id: 'main', backends: ['sim'] }],
        routes: [{ id: 'r', match: { models }, pool: 'main' }],
        governance: { identity: { anonymous: { allowed: true } } },
      });
    writeFileSync(file, config(['gpt-4o-mini']));
    const lines: string[] = [];
    let reloaded: (() => void) | undefined;
    const log = (line: string) => {
      lines.push(line);
      reloaded?.();
    };
    const nextReload = () => new Promise<void>((resolve) => (reloaded = resolve));
    const result = await startStandaloneHost({ env: { ...quiet, GATEWAY_CONFIG_FILE: file }, storage: 'memory', log });
    if ('issues' in result) throw new Error(result.issues.join('\n'));
    started = result;
    expect(result.watched).toBe(true);
    expect(result.simulatorUrls).toEqual([]);
    expect((await post(result.host.url, 'gpt-4o-mini')).status).toBe(200);
    expect((await post(result.host.url, 'gpt-4o')).status).toBe(404);

    let reload = nextReload();
    writeFileSync(file, config(['gpt-4o-mini', 'gpt-4o']));
    await reload;
    expect(lines.at(-1)).toBe(`gateway: configuration reloaded from ${file}`);
    expect((await post(result.host.url, 'gpt-4o')).status).toBe(200);

    reload = nextReload();
    writeFileSync(file, '{ "routes": 1');
    await reload;
    expect(lines.at(-1)).toMatch(/refused, the last good configuration stays/);
    expect((await post(result.host.url, 'gpt-4o')).status).toBe(200);
  });

  it('refuses to start on a configuration with problems, listing them all', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-standalone-')), 'gateway.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 'x' }, routes: [{ id: 'r' }] }));
    const result = await startStandaloneHost({ env: { GATEWAY_CONFIG_FILE: file }, storage: 'memory', log: () => {} });
    expect('issues' in result && result.issues.join('\n')).toMatch(/server\.port[\s\S]*routes/);
  });
});
