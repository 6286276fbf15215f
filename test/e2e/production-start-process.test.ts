import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { ensureBuilt, REPO_ROOT } from '../support/built-dist.js';

const ENTRY = 'dist/shared/standalone/main.js';

interface Started {
  /** The exit code, or `listening` when the gateway started serving (it is then stopped). */
  readonly outcome: number | 'listening';
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the standalone host as `npm start` does, in `cwd`, until it exits or says it is listening. */
function startGateway(cwd: string, env: Record<string, string>): Promise<Started> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEWAY_')));
  const child = spawn(process.execPath, [join(REPO_ROOT, ENTRY)], { cwd, env: { ...inherited, ...env } });
  let stdout = '';
  let stderr = '';
  let listening = false;
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!listening && /gateway listening on/.test(stdout)) {
        listening = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ outcome: listening ? 'listening' : (code ?? -1), stdout, stderr }));
  });
}

/** Issue 13 item 5: production mode never serves the development defaults. */
describe('npm start in production mode, as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-production-'));
  const base = { GATEWAY_SERVER__PORT: '0', GATEWAY_USAGE__LEDGER__KIND: 'memory' };
  beforeAll(() => ensureBuilt(ENTRY), 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start without a configuration file, exits non-zero, and starts no simulator', async () => {
    const started = await startGateway(dir, { ...base, GATEWAY_SERVER__MODE: 'production' });
    expect(started.outcome).toBe(1);
    expect(started.stdout).not.toMatch(/listening|simulator/);
    expect(started.stderr).toMatch(/refusing to start/);
    expect(started.stderr).toMatch(/"production" but there is no configuration file/);
    expect(started.stderr).toMatch(/GATEWAY_CONFIG_FILE/);
  });

  it('refuses a production configuration file that names no callers', async () => {
    const file = join(dir, 'no-callers.json');
    writeFileSync(file, JSON.stringify({ server: { mode: 'production' } }));
    const started = await startGateway(dir, { ...base, GATEWAY_CONFIG_FILE: file });
    expect(started.outcome).toBe(1);
    expect(started.stderr).toMatch(/no caller identity is configured/);
  });

  it('starts in production with a configuration file that names its callers', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { mode: 'production' },
        backends: [{ id: 'b', url: 'http://127.0.0.1:9' }],
        pools: [{ id: 'p', backends: ['b'] }],
        routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
        governance: {
          identity: {
            apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey('a-key-0123456789'), profile: 'p' }] },
          },
          profiles: [{ id: 'p' }],
        },
      }),
    );
    const started = await startGateway(dir, { ...base, GATEWAY_SERVER__MODE: 'production' });
    expect(started.stderr).toBe('');
    expect(started.outcome).toBe('listening');
    expect(started.stdout).not.toMatch(/simulator/);
  });
});
