import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A process the bench started, with the URL it serves. */
export interface BenchProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
}

/** The processes of one bench run; {@link BenchProcesses.stopAll} ends every one of them. */
export class BenchProcesses {
  private readonly children: ChildProcess[] = [];

  /** Starts `node <args>` on a free loopback port and waits until `readyPath` answers 2xx. */
  async start(
    name: string,
    args: (port: number) => string[],
    env: (port: number) => Record<string, string>,
    readyPath: string,
    nodeFlags: readonly string[] = [],
  ): Promise<BenchProcess> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [...nodeFlags, ...args(port)], {
      env: { ...process.env, ...env(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.children.push(child);
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before it was ready`);
      if (await answers(`${url}${readyPath}`)) return { name, url, child, pid: child.pid as number };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} did not answer ${readyPath} within 20 s`);
  }

  /** Stops one process started here (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  async stopOne(process: BenchProcess, graceMs = 5_000): Promise<void> {
    await stop(process.child, graceMs);
  }

  /** Stops every process started (SIGTERM, then SIGKILL after `graceMs`) and waits for them to exit. */
  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all(this.children.map((child) => stop(child, graceMs)));
  }
}

function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** A port free on loopback now (the OS's choice), for a process that must be told its port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A gateway configuration with the defaults a new deployment gets — NDJSON usage ledger, metering with
 * `include_usage` injection, scheduling, health tracking — and one simulator backend, anonymous callers
 * allowed. The backend's `maxConcurrency` is set high so the simulator, not a configured limit, bounds
 * the bench. `metering: false` and `streamRecovery: 'off'` are the switches the bench flips, to measure what
 * metering and stream recovery each cost.
 */
export function writeGatewayConfig(
  dir: string,
  simUrl: string,
  port: number,
  metering: boolean,
  streamRecovery: 'auto' | 'off' = 'auto',
): string {
  const file = join(dir, `gateway-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: '127.0.0.1', port },
      backends: [{ id: 'sim', url: simUrl, kind: 'openai', maxConcurrency: 10_000 }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main', streamRecovery }],
      governance: { identity: { anonymous: { allowed: true } } },
      usage: { enabled: metering, ledger: { path: join(dir, `usage-${port}.ndjson`) } },
    }),
  );
  return file;
}
