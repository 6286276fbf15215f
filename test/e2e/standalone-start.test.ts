import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { buildHost, startHostProcess, type HostProcess } from '../support/host-process.js';

const KEY = 'gw-start-test-key';

/** A port free a moment ago (the host is then started on it; a collision would fail the test, not pass it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const quiet = { GATEWAY_USAGE__LEDGER__KIND: 'memory' };

describe('npm start, as a process: the start-up lines and everyday mistakes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-start-'));
  let sim: RunningSimulator;
  const running: HostProcess[] = [];
  const start = (args: string[], env: Record<string, string> = {}): HostProcess => {
    const host = startHostProcess(args, { ...quiet, ...env }, dir);
    running.push(host);
    return host;
  };
  beforeAll(async () => {
    await buildHost();
    sim = await startSimulator({ name: 'sim', port: 0 });
    const keyed = {
      backends: [{ id: 'sim', url: sim.url }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'chat', match: { models: ['gpt-4o'] }, pool: 'main' }],
      governance: {
        identity: { apiKeys: { enabled: true, keys: [{ id: 'team-a', sha256: hashApiKey(KEY), profile: 'std' }] } },
        profiles: [{ id: 'std' }],
      },
    };
    writeFileSync(join(dir, 'keyed.json'), JSON.stringify(keyed));
  }, 300_000);
  afterAll(async () => {
    await Promise.all(running.map((h) => h.stop('SIGKILL')));
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a try command that works with API keys on: the key header, which key, how to make one', async () => {
    const host = start(['--config', 'keyed.json', '--port', '0', '--host', '127.0.0.1']);
    const [, url] = await host.waitFor(/gateway listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [tryLine, curl] = (await host.waitFor(/^(try .*)\n {2}(curl .*)$/m)).slice(1) as [string, string];
    expect(tryLine).toContain('team-a');
    expect(tryLine).toContain('npm run key');
    expect(host.stdout()).not.toContain(hashApiKey(KEY));
    expect(curl).toContain(`${url}/v1/chat/completions`);
    expect(curl).toContain('"model":"gpt-4o"');
    // The printed command, run by a shell as the operator would, with the key it names.
    const sh = (key: string) =>
      promisify(execFile)('sh', ['-c', `${curl} -w ' HTTP%{http_code}'`], {
        env: { ...process.env, GATEWAY_KEY: key },
      });
    expect((await sh(KEY)).stdout).toMatch(/"chat\.completion"[\s\S]* HTTP200$/);
    expect((await sh('not-a-key')).stdout).toMatch(/ HTTP401$/);
  });

  it('takes --port, --host and --config, and PORT when nothing else names the port', async () => {
    const port = await freePort();
    const viaPort = start(['--config', 'keyed.json', '--host', '127.0.0.1'], { PORT: String(port) });
    const [, listened] = await viaPort.waitFor(
      /gateway listening on http:\/\/127\.0\.0\.1:(\d+) \(config: \S*keyed\.json/,
    );
    expect(Number(listened)).toBe(port);
    await viaPort.stop();
  });

  it('stops with one sentence naming the port settings when the port is in use — no stack trace', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const host = start(['--config', 'keyed.json', '--port', String(port), '--host', '127.0.0.1']);
      expect((await host.exited).code).toBe(1);
      const stderr = host.stderr().trim();
      expect(stderr).toBe(
        `gateway: cannot start: port ${port} on 127.0.0.1 is already in use by another process: start on ` +
          'another port with `npm start -- --port 8302`, or set GATEWAY_SERVER__PORT (or PORT), or server.port in ' +
          'the configuration file.',
      );
    } finally {
      blocker.close();
    }
  });

  it('exits 2 naming a bad flag', async () => {
    const host = start(['--port', 'eighty']);
    expect((await host.exited).code).toBe(2);
    expect(host.stderr()).toContain('gateway: --port must be a port number from 0 to 65535, not "eighty"');
    expect(host.stderr()).toContain('usage: npm start --');
  });
});
