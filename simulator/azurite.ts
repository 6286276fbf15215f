import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The well-known development account every Azurite instance serves. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** Its well-known key (public; documented by Microsoft for the storage emulator). */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Where a running Azurite answers. Serialisable, so `globalSetup` can `provide()` it to tests. */
export interface AzuriteEndpoints {
  readonly blobEndpoint: string;
  readonly tableEndpoint: string;
  readonly queueEndpoint: string;
  /** A storage connection string for all three services. */
  readonly connectionString: string;
  readonly pid: number;
}

/** A running Azurite; `stop()` kills it by PID and waits for it to exit. */
export interface RunningAzurite extends AzuriteEndpoints {
  stop(): Promise<void>;
}

/** Options of {@link startAzurite}. */
export interface StartAzuriteOptions {
  /** How long to wait for all three services to listen and answer (default 30 s). */
  readonly startTimeoutMs?: number;
}

const SERVICES = ['Blob', 'Queue', 'Table'] as const;
type Service = (typeof SERVICES)[number];

/**
 * Starts Azurite in memory on free loopback ports (it accepts port 0 and prints the ports it bound:
 * "Azurite Blob service is successfully listening at http://127.0.0.1:PORT"), waits until every service
 * accepts TCP connections, and returns its endpoints. On any failure the child is killed before the
 * promise rejects, so no process outlives a failed start.
 *
 * @example
 * const azurite = await startAzurite();
 * try { ... TableClient.fromConnectionString(azurite.connectionString, 'x', { allowInsecureConnection: true }) ... }
 * finally { await azurite.stop(); }
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<RunningAzurite> {
  const bin = findAzuriteBin();
  const child = spawn(
    process.execPath,
    [
      bin,
      '--inMemoryPersistence',
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      '0',
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = (): Promise<void> => killChild(child);
  try {
    const ports = await readPorts(child, options.startTimeoutMs ?? 30_000);
    for (const service of SERVICES) await waitForTcp(ports[service], 10_000);
    const blobEndpoint = `http://127.0.0.1:${ports.Blob}/${AZURITE_ACCOUNT_NAME}`;
    const queueEndpoint = `http://127.0.0.1:${ports.Queue}/${AZURITE_ACCOUNT_NAME}`;
    const tableEndpoint = `http://127.0.0.1:${ports.Table}/${AZURITE_ACCOUNT_NAME}`;
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`;
    return { blobEndpoint, queueEndpoint, tableEndpoint, connectionString, pid: child.pid ?? -1, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Kills a process started by {@link startAzurite} by its PID (used by teardown when only the PID is known). */
export function killAzurite(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

function findAzuriteBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('Azurite is not installed (node_modules/azurite/dist/src/azurite.js not found); run npm ci.');
}

function readPorts(child: ChildProcess, timeoutMs: number): Promise<Record<Service, number>> {
  return new Promise((resolve, reject) => {
    const ports: Partial<Record<Service, number>> = {};
    let output = '';
    const timer = setTimeout(
      () => finish(new Error(`Azurite did not report its ports within ${timeoutMs} ms. Output:\n${output}`)),
      timeoutMs,
    );
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onStderr);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error !== undefined) reject(error);
      else resolve(ports as Record<Service, number>);
    };
    const onData = (data: Buffer): void => {
      output += data.toString('utf8');
      for (const match of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g,
      )) {
        ports[match[1] as Service] = Number(match[2]);
      }
      if (SERVICES.every((s) => ports[s] !== undefined)) finish();
    };
    const onStderr = (data: Buffer): void => {
      output += data.toString('utf8');
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`Azurite exited (code ${code}) before it listened. Output:\n${output}`));
    const onError = (error: Error): void => finish(error);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onStderr);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.end();
          resolve();
        });
        socket.once('error', reject);
      });
      return;
    } catch (error) {
      lastError = error;
      // Why: the port was reported as listening, so a refusal is transient; yield a tick before retrying.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  throw new Error(`Azurite port ${port} did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.pid !== undefined) killAzurite(child.pid);
  });
}
