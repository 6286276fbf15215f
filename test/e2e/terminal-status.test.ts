import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { buildHost, HOST_ENTRY, startHostProcess, type HostProcess } from '../support/host-process.js';
import { REPO_ROOT } from '../support/built-dist.js';

const STATUS_LINE =
  /^\d\d:\d\d:\d\d {2}calls [\d.]+\/s {2}errors \d+ {2}queued \d+ {2}breakers open \d+\/1 {2}tokens [\d.k]+\/s\r?$/gm;
const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const call = (url: string) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat });

describe('npm start on a terminal and without one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-terminal-'));
  let sim: RunningSimulator;
  const running: HostProcess[] = [];
  beforeAll(async () => {
    await buildHost();
    sim = await startSimulator({ name: 'sim', port: 0 });
    const config = {
      backends: [{ id: 'sim', url: sim.url }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'chat', match: { models: ['gpt-4o'] }, pool: 'main' }],
      governance: { identity: { anonymous: { allowed: true } } },
      resilience: {
        breaker: { failureThreshold: 2, minimumRequests: 2, openIntervalMs: 60_000 },
        retry: { maxAttempts: 1 },
      },
    };
    writeFileSync(join(dir, 'gateway.config.json'), JSON.stringify(config));
  }, 300_000);
  afterAll(async () => {
    await Promise.all(running.map((h) => h.stop('SIGKILL')));
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints status lines and breaker transitions on a TTY (pseudo-terminal), nothing periodic without', async () => {
    const env = { GATEWAY_USAGE__LEDGER__KIND: 'memory' };
    const args = ['--port', '0', '--host', '127.0.0.1', '--status-every', '1'];
    // script(1) runs the host with a pty as its stdout; the plain child has a pipe.
    const command = [process.execPath, join(REPO_ROOT, HOST_ENTRY), ...args].map((a) => `'${a}'`).join(' ');
    const tty = startHostProcess(['-qfec', command, '/dev/null'], env, dir, '/usr/bin/script');
    const pipe = startHostProcess(args, env, dir);
    running.push(tty, pipe);
    const [, ttyUrl] = await tty.waitFor(/gateway listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, pipeUrl] = await pipe.waitFor(/gateway listening on (http:\/\/127\.0\.0\.1:\d+)/);
    for (const url of [ttyUrl!, pipeUrl!]) expect((await call(url)).status).toBe(200);
    await tty.waitFor(/calls [1-9][\d.]*\/s {2}errors 0 {2}queued 0 {2}breakers open 0\/1 {2}tokens [1-9]/);

    sim.configure({ faults: ['503'] });
    for (const url of [ttyUrl!, pipeUrl!]) for (let i = 0; i < 2; i++) expect((await call(url)).status).toBe(502);
    await tty.waitFor(/^\d\d:\d\d:\d\d {2}breaker sim: closed → open \(trial at \d\d:\d\d:\d\d\)\r?$/m);
    await tty.waitFor(/errors 2 {2}queued 0 {2}breakers open 1\/1/);
    // The same time has passed for the piped host: it printed its start lines and nothing else.
    expect(tty.stdout().match(STATUS_LINE)?.length).toBeGreaterThanOrEqual(2);
    // Read before stopping it: on SIGTERM the host logs its drain, which is not periodic output.
    const piped = pipe.stdout();
    await pipe.stop();
    expect(pipe.stdout().match(STATUS_LINE)).toBeNull();
    expect(pipe.stdout()).not.toContain('breaker sim');
    expect(piped.trim().split('\n')).toHaveLength(3);
  }, 120_000);
});
