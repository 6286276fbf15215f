import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A standalone gateway running as a child process. */
export interface GatewayProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote (stdout and stderr), for failure reports. */
  output(): string;
  /** Kills it at once (no graceful stop: its sockets close, it cannot leave the ledger). */
  kill(): Promise<void>;
  /** Stops it gracefully (SIGTERM: it closes its server and leaves the capacity ledger), killing it if it hangs. */
  stop(): Promise<void>;
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  readonly name: string;
  /** The configuration file it serves (`GATEWAY_CONFIG_FILE`). */
  readonly configFile: string;
  /** The storage connection string (`AzureWebJobsStorage`) of the Table adapters and the capacity ledger. */
  readonly storageConnection: string;
  /** Its name in the capacity ledger (`--instance-id`). */
  readonly instanceId: string;
  /** How long to wait for it to listen (default 60 s: several start at once on a small machine). */
  readonly startTimeoutMs?: number;
}

/**
 * The compiled standalone host: `dist/shared/standalone/main.js` beside this module when it runs from
 * `dist`, else under the repository's `dist` (tests run the sources; `npm run build` makes it).
 */
export function standaloneMainPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromDist = resolve(here, '../../shared/standalone/main.js');
  if (here.split(/[\\/]/).includes('dist')) return fromDist;
  return resolve(here, '../../dist/shared/standalone/main.js');
}

/**
 * Starts `node dist/shared/standalone/main.js --storage azurite` with its own configuration file and
 * instance id, on a free loopback port (the configuration says port 0), and resolves once it prints the
 * address it listens on. On failure the child is killed before the promise rejects.
 *
 * @example
 * const g1 = await startGatewayProcess({ name: 'g1', configFile, storageConnection, instanceId: 'g1' });
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const main = standaloneMainPath();
  if (!existsSync(main)) throw new Error(`${main} does not exist: run npm run build first`);
  const child = spawn(process.execPath, [main, '--storage', 'azurite', '--instance-id', options.instanceId], {
    cwd: join(dirname(main), '../../..'),
    env: {
      PATH: process.env.PATH ?? '',
      GATEWAY_CONFIG_FILE: options.configFile,
      AzureWebJobsStorage: options.storageConnection,
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    const url = await listeningUrl(child, () => output, options.startTimeoutMs ?? 60_000);
    return {
      name: options.name,
      url,
      pid: child.pid ?? -1,
      output: () => output,
      kill: () => signal(child, 'SIGKILL', exited),
      stop: async () => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await signal(child, 'SIGTERM', exited);
        clearTimeout(timer);
      },
    };
  } catch (error) {
    await signal(child, 'SIGKILL', exited);
    throw error;
  }
}

function signal(child: ChildProcess, name: NodeJS.Signals, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.kill(name);
  return exited;
}

function listeningUrl(child: ChildProcess, output: () => string, timeoutMs: number): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const finish = (error: Error | undefined, url?: string): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolveUrl(url!);
    };
    const timer = setTimeout(
      () => finish(new Error(`gateway did not listen within ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    const onData = (): void => {
      const match = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
      if (match !== null) finish(undefined, match[1]);
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`gateway exited (${code}) before listening:\n${output()}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
